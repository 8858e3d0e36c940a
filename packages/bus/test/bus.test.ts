import {Bus, EventValidationError, installPageBus, pageBus, provideBus, requestBus, type DeadLetter, type Rejection} from '@switchboard/bus';
import {defineEvent, type Envelope, type EnvelopeOf} from '@switchboard/contracts';
import {describe, expect, expectTypeOf, it} from 'vitest';
import {z} from 'zod';

const OrderPlaced = defineEvent({
  type: 'order.placed',
  schema: z.object({orderId: z.string(), quantity: z.number().int().positive()}),
});
const OrderShipped = defineEvent({type: 'order.shipped', schema: z.object({orderId: z.string()})});

function quietBus(): {bus: Bus; dead: DeadLetter[]; rejected: Rejection[]} {
  const dead: DeadLetter[] = [];
  const rejected: Rejection[] = [];
  const bus = new Bus({onDeadLetter: (l) => dead.push(l), onReject: (r) => rejected.push(r)});
  return {bus, dead, rejected};
}

describe('Bus', () => {
  it('delivers a published envelope to subscribers of its contract, typed', () => {
    const {bus} = quietBus();
    const got: number[] = [];
    bus.subscribe(OrderPlaced, (e) => {
      expectTypeOf(e.data.quantity).toEqualTypeOf<number>();
      got.push(e.data.quantity);
    });
    const envelope = bus.publish(OrderPlaced, {orderId: 'o-1', quantity: 3}, {source: 'mfe:test'});
    expect(got).toEqual([3]);
    expect(envelope).toMatchObject({type: 'order.placed', source: 'mfe:test', data: {orderId: 'o-1', quantity: 3}});
  });

  it('types publish: a wrong payload does not compile', () => {
    const {bus} = quietBus();
    // @ts-expect-error quantity must be a number
    expect(() => bus.publish(OrderPlaced, {orderId: 'o', quantity: 'two'})).toThrow(EventValidationError);
    // @ts-expect-error orderId is missing
    expect(() => bus.publish(OrderPlaced, {quantity: 1})).toThrow(EventValidationError);
  });

  it('delivers only the subscribed type, and everything to *', () => {
    const {bus} = quietBus();
    const placed: string[] = [];
    const all: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void placed.push(e.type));
    bus.subscribe('*', (e) => void all.push(e.type));
    bus.publish(OrderShipped, {orderId: 'o-1'});
    bus.publish(OrderPlaced, {orderId: 'o-1', quantity: 1});
    expect(placed).toEqual(['order.placed']);
    expect(all).toEqual(['order.shipped', 'order.placed']);
  });

  it('rejects invalid data: throws with the issues, delivers to no one, reports it', () => {
    const {bus, rejected} = quietBus();
    const got: Envelope[] = [];
    bus.subscribe('*', (e) => void got.push(e));
    let thrown: unknown;
    try {
      bus.publish(OrderPlaced, {orderId: 'o-1', quantity: -2});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EventValidationError);
    expect((thrown as EventValidationError).issues).toEqual([expect.objectContaining({path: 'data.quantity'})]);
    expect(got).toEqual([]);
    expect(rejected).toHaveLength(1);
  });

  it('keeps delivering when a subscriber throws or rejects, and turns each failure into a dead letter', async () => {
    const {bus, dead} = quietBus();
    const got: string[] = [];
    bus.subscribe(OrderPlaced, () => {
      throw new Error('boom');
    }, {name: 'mfe:broken'});
    bus.subscribe(OrderPlaced, async () => {
      throw new Error('async boom');
    }, {name: 'mfe:broken-async'});
    bus.subscribe(OrderPlaced, (e) => void got.push(e.data.orderId));
    bus.publish(OrderPlaced, {orderId: 'o-1', quantity: 1});
    await Promise.resolve();
    expect(got).toEqual(['o-1']);
    expect(dead.map((d) => [d.subscriber, (d.error as Error).message, d.attempt])).toEqual([
      ['mfe:broken', 'boom', 1],
      ['mfe:broken-async', 'async boom', 1],
    ]);
  });

  it('ends a subscription by its returned function and by AbortSignal', () => {
    const {bus} = quietBus();
    const abort = new AbortController();
    const got: string[] = [];
    const stop = bus.subscribe(OrderPlaced, () => void got.push('a'));
    bus.subscribe(OrderPlaced, () => void got.push('b'), {signal: abort.signal});
    expect(bus.subscriberCount).toBe(2);
    stop();
    abort.abort();
    bus.publish(OrderPlaced, {orderId: 'o-1', quantity: 1});
    expect(got).toEqual([]);
    expect(bus.subscriberCount).toBe(0);
  });

  it('does not skip a subscriber when another unsubscribes during delivery', () => {
    const {bus} = quietBus();
    const got: string[] = [];
    const stopA = bus.subscribe(OrderPlaced, () => {
      got.push('a');
      stopA();
    });
    bus.subscribe(OrderPlaced, () => void got.push('b'));
    bus.publish(OrderPlaced, {orderId: 'o-1', quantity: 1});
    expect(got).toEqual(['a', 'b']);
  });

  it('ingests untrusted envelopes: delivers valid ones, reports invalid ones without throwing', () => {
    const {bus, rejected} = quietBus();
    bus.register(OrderPlaced);
    const got: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    const good = {id: 'x1', type: 'order.placed', version: 1, time: new Date().toISOString(), source: 's', correlationId: 'x1', data: {orderId: 'o', quantity: 1}};
    expect(bus.ingest(good, 'hub:orders').ok).toBe(true);
    expect(bus.ingest({...good, data: {orderId: 1}}, 'hub:orders').ok).toBe(false);
    expect(bus.ingest('garbage', 'hub:orders').ok).toBe(false);
    expect(got).toEqual(['x1']);
    expect(rejected.map((r) => r.origin)).toEqual(['hub:orders', 'hub:orders']);
  });

  it('routes DOM CustomEvents of registered types reaching an attached root, validating them', () => {
    const {bus, rejected} = quietBus();
    const root = new EventTarget();
    bus.attach(root);
    bus.register(OrderPlaced);
    const got: EnvelopeOf<typeof OrderPlaced>[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e));
    root.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-dom', quantity: 1}}));
    root.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-bad'}}));
    root.dispatchEvent(new CustomEvent('not.registered', {detail: {}}));
    expect(got.map((e) => [e.data.orderId, e.source])).toEqual([['o-dom', 'dom']]);
    expect(rejected).toHaveLength(1);
  });
});

describe('bus discovery', () => {
  it('answers a context request from the nearest provider', () => {
    const host = new EventTarget();
    const bus = new Bus();
    provideBus(host, bus);
    expect(requestBus(host)).toBe(bus);
  });

  it('falls back to one page-wide bus shared under a Symbol.for key, and refuses a second one', () => {
    const orphan = new EventTarget();
    const first = requestBus(orphan);
    expect(requestBus(new EventTarget())).toBe(first);
    expect(pageBus()).toBe(first);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('switchboard.page-bus')]).toBe(first);
    expect(() => installPageBus(new Bus())).toThrow('already has a bus');
    expect(installPageBus(first)).toBe(first);
  });
});

describe('app hosts', () => {
  it('a DOM event from inside a marked app host carries mfe:<host tag>, not its inner component\'s', async () => {
    const {markAppHost} = await import('@switchboard/bus');
    const Ping = defineEvent({type: 'test.host-ping', schema: z.object({n: z.number()})});
    const rejected: string[] = [];
    const bus = new Bus({permissions: {rules: {'mfe:shop-react-app': ['test.host-ping']}, otherSources: 'deny'}, onReject: (r) => void rejected.push(r.error)});
    bus.register(Ping);
    // Stand-ins for elements: sourceOf reads the composed path's nodes' localName. The event comes
    // from a design-system element (<sl-button>) inside the app.
    const host = Object.assign(new EventTarget(), {localName: 'shop-react-app'});
    const inner = {localName: 'sl-button'};
    class FromInside<T> extends CustomEvent<T> {
      override composedPath(): EventTarget[] {
        return [inner as unknown as EventTarget, host];
      }
    }
    bus.attach(host);
    const seen: string[] = [];
    bus.subscribe(Ping, (e) => void seen.push(e.source));
    host.dispatchEvent(new FromInside('test.host-ping', {detail: {n: 1}}));
    expect(rejected).toEqual(['mfe:sl-button may not publish "test.host-ping"']);
    const unmark = markAppHost(host as unknown as Element);
    host.dispatchEvent(new FromInside('test.host-ping', {detail: {n: 2}}));
    unmark();
    expect(seen).toEqual(['mfe:shop-react-app']);
    expect(bus.stats()).toMatchObject({subscriptions: 1, roots: 1, pendingRequests: 0});
    expect(bus.stats().domListeners).toBe(bus.registry.types().length);
  });
});
