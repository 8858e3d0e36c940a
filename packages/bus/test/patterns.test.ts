import {
  AmbiguousResponderError,
  Bus,
  CausationLoopError,
  DuplicateHandlerError,
  EventValidationError,
  NoHandlerError,
  NoResponderError,
  PermissionError,
  RequestTimeoutError,
  shareAcrossTabs,
  type DeadLetter,
  type Rejection,
} from '@switchboard/bus';
import {createEnvelope, defineEvent, defineUpcaster, type Envelope} from '@switchboard/contracts';
import {describe, expect, expectTypeOf, it, vi} from 'vitest';
import {z} from 'zod';

const OrderPlaced = defineEvent({type: 'order.placed', schema: z.object({orderId: z.string(), quantity: z.number().int().positive()})});
const OrderShipped = defineEvent({type: 'order.shipped', schema: z.object({orderId: z.string()})});
const CartUpdated = defineEvent({type: 'cart.updated', schema: z.object({items: z.number()}), replay: {last: 2, ttlMs: 1000}});
const UserChanged = defineEvent({type: 'user.changed', schema: z.object({name: z.string()}), replay: 'last'});
const PlaceOrder = defineEvent({type: 'order.place', kind: 'command', schema: z.object({sku: z.string()})});
const StockQuery = defineEvent({type: 'stock.query', schema: z.object({sku: z.string()})});

function quietBus(options: ConstructorParameters<typeof Bus>[0] = {}) {
  const dead: DeadLetter[] = [];
  const rejected: Rejection[] = [];
  const bus = new Bus({onDeadLetter: (l) => dead.push(l), onReject: (r) => rejected.push(r), ...options});
  return {bus, dead, rejected};
}

describe('subscriptions', () => {
  it('matches prefix wildcards and * across types', () => {
    const {bus} = quietBus();
    const orders: string[] = [];
    const all: string[] = [];
    bus.subscribe('order.*', (e) => void orders.push(e.type));
    bus.subscribe('*', (e) => void all.push(e.type));
    bus.publish(OrderPlaced, {orderId: 'o', quantity: 1});
    bus.publish(OrderShipped, {orderId: 'o'});
    bus.publish(CartUpdated, {items: 1});
    expect(orders).toEqual(['order.placed', 'order.shipped']);
    expect(all).toEqual(['order.placed', 'order.shipped', 'cart.updated']);
  });

  it('delivers once, by option and as a promise', async () => {
    const {bus} = quietBus();
    const got: string[] = [];
    bus.subscribe(OrderShipped, (e) => void got.push(e.data.orderId), {once: true});
    const next = bus.once(OrderShipped);
    bus.publish(OrderShipped, {orderId: 'a'});
    bus.publish(OrderShipped, {orderId: 'b'});
    expect(got).toEqual(['a']);
    expect((await next).data.orderId).toBe('a');
    expectTypeOf((await next).data).toEqualTypeOf<{orderId: string}>();
    expect(bus.subscriberCount).toBe(0);
  });
});

describe('replay for late subscribers', () => {
  it('gives a late subscriber the last N retained events, in order, then live ones', () => {
    const {bus} = quietBus();
    for (let i = 1; i <= 3; i++) bus.publish(CartUpdated, {items: i});
    const got: number[] = [];
    bus.subscribe(CartUpdated, (e) => void got.push(e.data.items));
    bus.publish(CartUpdated, {items: 4});
    expect(got).toEqual([2, 3, 4]);
  });

  it('keeps only the last event for `last`, and nothing for contracts without a policy', () => {
    const {bus} = quietBus();
    bus.publish(UserChanged, {name: 'ada'});
    bus.publish(UserChanged, {name: 'grace'});
    bus.publish(OrderShipped, {orderId: 'o'});
    const got: string[] = [];
    bus.subscribe('*', (e) => void got.push(e.type === 'user.changed' ? (e.data as {name: string}).name : e.type));
    expect(got).toEqual(['grace']);
  });

  it('lets a subscriber ask for live events only, and drops events past their time to live', () => {
    vi.useFakeTimers();
    try {
      const {bus} = quietBus();
      bus.publish(CartUpdated, {items: 1});
      const live: number[] = [];
      bus.subscribe(CartUpdated, (e) => void live.push(e.data.items), {replay: false});
      expect(live).toEqual([]);
      vi.advanceTimersByTime(1500);
      const late: number[] = [];
      bus.subscribe(CartUpdated, (e) => void late.push(e.data.items));
      expect(late).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('versions side by side', () => {
  const V1 = defineEvent({type: 'price.set', version: 1, schema: z.object({cents: z.number().int()})});
  const V2 = defineEvent({type: 'price.set', version: 2, schema: z.object({amount: z.number(), currency: z.string()})});
  const V3 = defineEvent({type: 'price.set', version: 3, schema: z.object({amount: z.number(), currency: z.string(), taxIncluded: z.boolean()})});
  const up12 = defineUpcaster(V1, V2, (v1) => ({amount: v1.cents / 100, currency: 'EUR'}));
  const up23 = defineUpcaster(V2, V3, (v2) => ({...v2, taxIncluded: true}));

  it('upcasts an old producer’s event to the version each consumer asks for', () => {
    const {bus} = quietBus();
    bus.register(up12, up23);
    const asV1: unknown[] = [];
    const asV3: unknown[] = [];
    bus.subscribe(V1, (e) => void asV1.push(e.data));
    bus.subscribe(V3, (e) => {
      expectTypeOf(e.data.taxIncluded).toEqualTypeOf<boolean>();
      asV3.push(e.data);
    });
    bus.publish(V1, {cents: 250});
    expect(asV1).toEqual([{cents: 250}]);
    expect(asV3).toEqual([{amount: 2.5, currency: 'EUR', taxIncluded: true}]);
    // A newer event never reaches an older consumer: there is no downcasting.
    bus.publish(V3, {amount: 1, currency: 'EUR', taxIncluded: false});
    expect(asV1).toHaveLength(1);
    expect(asV3).toHaveLength(2);
  });

  it('says why it cannot upcast', () => {
    const {bus} = quietBus();
    bus.register(up23);
    const v1 = createEnvelope(V1, {cents: 1}, {source: 't'});
    expect(bus.registry.upcast(v1, 3)).toMatchObject({ok: false, issues: [{message: 'no upcaster from version 1'}]});
    const broken = defineUpcaster(V1, V2, () => ({amount: 'x', currency: 'EUR'}) as never);
    expect(bus.registry.register(V1).upcast(v1, 1).ok).toBe(true);
    const r2 = new Bus().registry.register(broken);
    expect(r2.upcast(v1, 2)).toMatchObject({ok: false, error: expect.stringContaining('produced invalid data')});
  });

  it('refuses an upcaster that skips a version or changes the type', () => {
    expect(() => defineUpcaster(V1, V3, () => ({amount: 1, currency: 'x', taxIncluded: true}))).toThrow('N to N+1');
    expect(() => defineUpcaster(OrderShipped, V1 as never, () => ({}) as never)).toThrow('different types');
  });
});

describe('commands', () => {
  it('routes a command to exactly one handler and answers send() with its result', async () => {
    const {bus} = quietBus();
    bus.handle(PlaceOrder, (e) => ({accepted: true, sku: e.data.sku}));
    expect(await bus.send(PlaceOrder, {sku: 'tea'})).toEqual({accepted: true, sku: 'tea'});
    expect(() => bus.handle(PlaceOrder, () => null)).toThrow(DuplicateHandlerError);
    expect(() => bus.handle(OrderShipped, () => null)).toThrow('is an event, not a command');
  });

  it('refuses a command with no handler, by publish and by send', async () => {
    const {bus, rejected} = quietBus();
    expect(() => bus.publish(PlaceOrder, {sku: 'tea'})).toThrow(NoHandlerError);
    await expect(bus.send(PlaceOrder, {sku: 'tea'})).rejects.toThrow(NoHandlerError);
    expect(rejected[0]?.error).toBe('no handler for command "order.place"');
  });
});

describe('request/response', () => {
  it('resolves with the one responder’s answer, and its publishes carry the request as their cause', async () => {
    const {bus} = quietBus();
    const shipped: Envelope[] = [];
    bus.subscribe(OrderShipped, (e) => void shipped.push(e));
    bus.respond(StockQuery, (e) => {
      bus.publish(OrderShipped, {orderId: e.data.sku});
      return 7;
    });
    expect(await bus.request(StockQuery, {sku: 'tea'})).toBe(7);
    const request = bus.inspect().find((r) => r.type === 'stock.query')!.envelope!;
    expect(shipped[0]).toMatchObject({causationId: request.id, correlationId: request.correlationId});
  });

  it('gives a distinct error for no responder, several responders, a timeout and an abort', async () => {
    const {bus} = quietBus();
    await expect(bus.request(StockQuery, {sku: 'x'})).rejects.toThrow(NoResponderError);
    const stopA = bus.respond(StockQuery, () => new Promise(() => {}));
    const stopB = bus.respond(StockQuery, () => 1);
    await expect(bus.request(StockQuery, {sku: 'x'})).rejects.toThrow(AmbiguousResponderError);
    stopB();
    await expect(bus.request(StockQuery, {sku: 'x'}, {timeoutMs: 20})).rejects.toThrow(RequestTimeoutError);
    const abort = new AbortController();
    const pending = bus.request(StockQuery, {sku: 'x'}, {signal: abort.signal});
    abort.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
    stopA();
  });

  it('passes a responder’s failure to the requester', async () => {
    const {bus} = quietBus();
    bus.respond(StockQuery, () => {
      throw new Error('warehouse offline');
    });
    await expect(bus.request(StockQuery, {sku: 'x'})).rejects.toThrow('warehouse offline');
  });
});

describe('idempotency', () => {
  it('delivers an envelope id once, whether it arrives locally, from the hub, or twice from the hub', () => {
    const {bus} = quietBus();
    const got: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    const local = bus.publish(OrderPlaced, {orderId: 'o', quantity: 1});
    expect(bus.ingest(local, 'hub:orders').ok).toBe(true);
    const remote = createEnvelope(OrderPlaced, {orderId: 'p', quantity: 1}, {source: 'service:orders'});
    bus.ingest(remote, 'hub:orders');
    bus.ingest(remote, 'hub:orders');
    expect(got).toEqual([local.id, remote.id]);
    expect(bus.inspect().filter((r) => r.outcome === 'duplicate')).toHaveLength(2);
  });
});

describe('failures', () => {
  it('retries a failing subscriber with backoff, then dead-letters it with its attempt count', async () => {
    vi.useFakeTimers();
    try {
      const {bus, dead} = quietBus();
      let calls = 0;
      bus.subscribe(OrderShipped, () => {
        calls++;
        throw new Error('flaky');
      }, {name: 'mfe:tracker', retry: {attempts: 3, backoffMs: 100}});
      bus.publish(OrderShipped, {orderId: 'o'});
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(99);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toBe(2);
      await vi.advanceTimersByTimeAsync(200);
      expect(calls).toBe(3);
      expect(dead.map((d) => [d.subscriber, d.attempt, (d.error as Error).message])).toEqual([['mfe:tracker', 3, 'flaky']]);
      expect(bus.deadLetters).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops a causation loop at the depth limit and reports it', () => {
    const {bus, rejected} = quietBus({maxCausationDepth: 5});
    const Ping = defineEvent({type: 'ping', schema: z.object({n: z.number()})});
    let seen = 0;
    let stopped: unknown;
    bus.subscribe(Ping, (e) => {
      seen++;
      try {
        bus.publish(Ping, {n: e.data.n + 1});
      } catch (error) {
        stopped = error;
      }
    });
    bus.publish(Ping, {n: 1});
    expect(seen).toBe(5);
    expect(stopped).toBeInstanceOf(CausationLoopError);
    expect(rejected.at(-1)?.error).toMatch(/causation chain deeper than 5 at "ping"/);
  });
});

describe('tracing', () => {
  it('gives what a handler publishes the handled event’s correlation and causation, and records each run', () => {
    const {bus} = quietBus();
    bus.subscribe(OrderPlaced, () => void bus.publish(OrderShipped, {orderId: 'o'}), {name: 'service:shipping'});
    const placed = bus.publish(OrderPlaced, {orderId: 'o', quantity: 1}, {source: 'mfe:form'});
    const [first, second] = bus.inspect();
    expect(first).toMatchObject({type: 'order.placed', source: 'mfe:form', origin: 'local', outcome: 'delivered'});
    expect(first!.handlers).toEqual([{subscriber: 'service:shipping', ok: true}]);
    expect(first!.ms).toBe(0);
    // Timings are taken while someone listens live (devtools).
    const live: number[] = [];
    bus.onTrace((r) => live.push(r.ms));
    bus.subscribe(OrderShipped, () => {
      const until = performance.now() + 2;
      while (performance.now() < until);
    });
    bus.publish(OrderShipped, {orderId: 'slow'});
    expect(live[0]).toBeGreaterThanOrEqual(2);
    expect(second!.envelope).toMatchObject({type: 'order.shipped', correlationId: placed.correlationId, causationId: placed.id});
  });

  it('records rejections with their issues', () => {
    const {bus} = quietBus();
    expect(() => bus.publish(OrderPlaced, {orderId: 'o', quantity: 0})).toThrow(EventValidationError);
    expect(bus.inspect()).toEqual([expect.objectContaining({type: 'order.placed', outcome: 'rejected', issues: [expect.objectContaining({path: 'data.quantity'})]})]);
  });
});

describe('publish permissions', () => {
  it('rejects and reports a source publishing a type it may not', () => {
    const {bus, rejected} = quietBus({permissions: {rules: {'mfe:order-form': ['order.*']}, otherSources: 'deny'}});
    expect(bus.publish(OrderPlaced, {orderId: 'o', quantity: 1}, {source: 'mfe:order-form'}).type).toBe('order.placed');
    expect(() => bus.publish(CartUpdated, {items: 1}, {source: 'mfe:order-form'})).toThrow(PermissionError);
    expect(() => bus.publish(CartUpdated, {items: 1}, {source: 'mfe:unknown'})).toThrow('mfe:unknown may not publish "cart.updated"');
    expect(rejected.map((r) => r.error)).toEqual(['mfe:order-form may not publish "cart.updated"', 'mfe:unknown may not publish "cart.updated"']);
    expect(bus.inspect().filter((r) => r.outcome === 'forbidden')).toHaveLength(2);
  });
});

describe('validation policy', () => {
  it('skips validation of typed publishes at `boundaries`, and still validates DOM input', () => {
    const {bus, rejected} = quietBus({validation: 'boundaries'});
    const got: unknown[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.data));
    bus.publish(OrderPlaced, {orderId: 'o', quantity: -1});
    const root = new EventTarget();
    bus.attach(root);
    root.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o', quantity: -1}}));
    expect(got).toEqual([{orderId: 'o', quantity: -1}]);
    expect(rejected).toHaveLength(1);
  });
});

describe('cross-tab', () => {
  it('shares chosen types between buses on one BroadcastChannel, once each, never echoed', async () => {
    const channel = `test-${Math.random()}`;
    const a = quietBus().bus;
    const b = quietBus().bus;
    for (const bus of [a, b]) bus.register(OrderPlaced, CartUpdated);
    const stopA = shareAcrossTabs(a, {types: ['cart.*'], channel});
    const stopB = shareAcrossTabs(b, {types: ['cart.*'], channel});
    const atA: number[] = [];
    const atB: number[] = [];
    a.subscribe(CartUpdated, (e) => void atA.push(e.data.items), {replay: false});
    b.subscribe(CartUpdated, (e) => void atB.push(e.data.items), {replay: false});
    const orders: string[] = [];
    b.subscribe(OrderPlaced, (e) => void orders.push(e.id));
    a.publish(CartUpdated, {items: 3});
    a.publish(OrderPlaced, {orderId: 'o', quantity: 1});
    await new Promise((r) => setTimeout(r, 50));
    expect(atA).toEqual([3]);
    expect(atB).toEqual([3]);
    expect(orders).toEqual([]);
    expect(b.inspect().find((r) => r.type === 'cart.updated')?.origin).toBe('tab');
    stopA();
    stopB();
  });
});

describe('the trace log', () => {
  it('keeps the last records in order once full', () => {
    const {bus} = quietBus({traceCapacity: 3});
    for (let i = 1; i <= 5; i++) bus.publish(OrderShipped, {orderId: `o${i}`});
    expect(bus.inspect().map((r) => (r.envelope!.data as {orderId: string}).orderId)).toEqual(['o3', 'o4', 'o5']);
  });
});

describe('interest', () => {
  it('reports the patterns subscribers want as they come and go, not counting the kit’s own', () => {
    const {bus} = quietBus();
    const seen: string[][] = [];
    bus.onInterest((p) => seen.push([...p].sort()));
    const a = bus.subscribe(OrderPlaced, () => {});
    const b = bus.subscribe(OrderPlaced, () => {});
    const c = bus.subscribe('cart.*', () => {});
    bus.subscribe(OrderShipped, () => {}, {name: 'switchboard:hub-bridge'});
    a();
    b();
    c();
    expect(seen).toEqual([[], ['order.placed'], ['cart.*', 'order.placed'], ['cart.*'], []]);
  });

  it('tells which patterns can match a common type', async () => {
    const {overlaps} = await import('@switchboard/bus');
    expect(overlaps('order.*', 'order.placed')).toBe(true);
    expect(overlaps('order.placed', 'order.*')).toBe(true);
    expect(overlaps('order.*', 'order.item.*')).toBe(true);
    expect(overlaps('*', 'cart.updated')).toBe(true);
    expect(overlaps('order.*', 'cart.*')).toBe(false);
    expect(overlaps('order.placed', 'order.shipped')).toBe(false);
  });
});

describe('delivery order', () => {
  it('gives every subscriber events in publish order, even those a handler publishes', () => {
    const {bus} = quietBus();
    const first: string[] = [];
    const second: string[] = [];
    bus.subscribe(OrderPlaced, (e) => {
      first.push(e.type);
      bus.publish(OrderShipped, {orderId: e.data.orderId});
    });
    bus.subscribe('order.*', (e) => void second.push(e.type));
    bus.subscribe(OrderShipped, (e) => void first.push(e.type));
    bus.publish(OrderPlaced, {orderId: 'o', quantity: 1});
    expect(second).toEqual(['order.placed', 'order.shipped']);
    expect(first).toEqual(['order.placed', 'order.shipped']);
  });
});
