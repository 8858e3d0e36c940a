/**
 * The page bridge (@switchboard/signalr's HubBridge over the official client) against the hub:
 * nothing lost, nothing twice, across server-side connection drops on every transport.
 */
import {Bus} from '@switchboard/bus';
import {createEnvelope, defineEvent} from '@switchboard/contracts';
import {OrderPlaced, PaymentProcessed, PlaceOrder, shopRegistry} from '@switchboard/shop-contracts';
import {ConnectionChanged, HubBridge, TopicTruncated, type HubBridgeOptions, type TransportName} from '@switchboard/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {HubError, MemoryTopicLog, type SwitchboardServer} from '@switchboard/hub';
import {logOf, orderEvent, quietBus, shopBridge, sleep, startServer, until} from './helpers';

let server: SwitchboardServer | undefined;
const bridges: HubBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await server?.close();
  server = undefined;
});


/** A server that pings every second: the bridges here time out after 5 s of silence. */
function start(options: Parameters<typeof startServer>[0] = {}): ReturnType<typeof startServer> {
  return startServer({...options, hub: {keepAliveIntervalMs: 1000, ...options.hub}});
}

function bridge(url: string, bus: Bus, options: Partial<HubBridgeOptions> = {}, transport?: TransportName): HubBridge {
  const b = shopBridge(url, bus, options, transport);
  // The server pings every second in these tests (see resume below), so a client that missed a cut
  // (a half-open stream, seen under load with the Node SSE client) notices within 5 s, as a real
  // client does within its 30 s default, and reconnects.
  b.connection.serverTimeoutInMilliseconds = 5_000;
  b.connection.keepAliveIntervalInMilliseconds = 1_000;
  bridges.push(b);
  return b;
}

const order = orderEvent;

describe.each(['WebSockets', 'ServerSentEvents', 'LongPolling'] as const)('resume over %s', (transport) => {
  it('receives exactly the published sequence while the server drops the connection 50 times', async () => {
    let url: string;
    ({server, url} = await start());
    const bus = quietBus();
    const received: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void received.push(e.id));
    const statuses: string[] = [];
    bus.subscribe(ConnectionChanged, (e) => void statuses.push(e.data.status), {replay: false});
    const hub = bridge(url, bus, {}, transport);
    await hub.start();
    await until(() => hub.following.includes('orders') && server!.hub.groupSize('topic:orders') === 1);

    const total = 1500;
    let published = 0;
    const publishing = (async () => {
      while (published < total) {
        for (let i = 0; i < 5 && published < total; i++) expect((await server!.events.publish('orders', order(published++))).ok).toBe(true);
        await sleep(1);
      }
    })();
    let drops = 0;
    const dropping = Date.now();
    while (drops < 50) {
      if (Date.now() - dropping > 90_000) {
        const id = hub.connection.connectionId;
        const c = id === null ? undefined : server.hub.connection(id);
        throw new Error(
          `${transport}: only ${drops} drops in 90 s; bridge ${hub.status}, client ${hub.connection.state}, id ${id}, ` +
            `server side ${c === undefined ? 'none' : `${c.phase}${c.detached ? ' detached' : ''}`}, server connections ${server.hub.connectionCount}, received ${received.length}`,
        );
      }
      await sleep(10 + Math.random() * 30);
      const id = hub.connection.connectionId;
      const connection = id === null ? undefined : server.hub.connection(id);
      if (connection === undefined || connection.phase !== 'open' || connection.detached) continue;
      connection.abortTransport();
      drops++;
    }
    await publishing;
    await until(() => received.length >= total).catch((error: unknown) => {
      const id = hub.connection.connectionId;
      const c = id === null ? undefined : server!.hub.connection(id);
      throw new Error(`${transport}: received ${received.length} of ${total} after ${drops} drops; status ${hub.status}; last ${received.at(-1)}; first missing ${Array.from({length: total}, (_, n) => `e-${n}`).filter((x) => !received.includes(x)).slice(0, 5).join(' ')}; dup ${received.length - new Set(received).size}; group ${server!.hub.groupSize('topic:orders')}; conn ${c === undefined ? 'none' : `${c.phase} buffered ${c.bufferedBytes} groups ${[...c.groups].join(',')}`}; server conns ${server!.hub.connectionCount}; following ${hub.following.join(',')}; ${String(error)}`);
    });
    await sleep(100);
    expect(received).toEqual(Array.from({length: total}, (_, n) => `e-${n}`));
    expect(drops).toBe(50);
    if (transport !== 'WebSockets') expect(statuses).toContain('reconnecting');
  }, 120_000);
});

describe('the page bridge', () => {
  it('misses nothing of an empty topic when its connection drops before the first event arrives', async () => {
    let url: string;
    ({server, url} = await start());
    const bus = quietBus();
    const got: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    // Long polling: no stateful reconnect, so the bridge resubscribes on a new connection.
    const hub = bridge(url, bus, {}, 'LongPolling');
    await hub.start();
    await until(() => hub.following.includes('orders') && server!.hub.groupSize('topic:orders') === 1);
    const first = hub.connection.connectionId!;
    server.hub.connection(first)!.abortTransport();
    await until(() => server!.hub.groupSize('topic:orders') === 0);
    // Published while the page is away, having received nothing of the topic yet.
    for (let i = 0; i < 3; i++) expect((await server.events.publish('orders', order(i))).ok).toBe(true);
    await until(() => got.length === 3);
    await sleep(100);
    expect(got).toEqual(['e-0', 'e-1', 'e-2']);
    expect(hub.connection.connectionId).not.toBe(first);
  });

  it('follows a topic only while some subscriber wants its types', async () => {
    let url: string;
    ({server, url} = await start());
    const bus = quietBus();
    const hub = bridge(url, bus);
    await hub.start();
    expect(hub.following).toEqual([]);
    const stop = bus.subscribe('order.*', () => {});
    await until(() => server!.hub.groupSize('topic:orders') === 1);
    expect(hub.following).toEqual(['orders']);
    stop();
    await until(() => server!.hub.groupSize('topic:orders') === 0);
    expect(hub.following).toEqual([]);
  });

  it('sends page events of chosen types to the server once, and does not echo server events back', async () => {
    let url: string;
    const log = new MemoryTopicLog();
    ({server, url} = await start({log}));
    const bus = quietBus();
    const got: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    const hub = bridge(url, bus, {publish: {orders: ['order.placed']}});
    await hub.start();
    await until(() => server!.hub.groupSize('topic:orders') === 1);
    const local = bus.publish(OrderPlaced, {orderId: 'o-page', sku: 'tea-assam', quantity: 2}, {source: 'mfe:form'});
    await until(() => log.read('orders', null, 10).entries.length === 1);
    await server.events.publish('orders', order(1));
    await until(() => log.read('orders', null, 10).entries.length === 2);
    await sleep(100);
    expect(log.read('orders', null, 10).entries.map((e) => e.event.id)).toEqual([local.id, 'e-1']);
    // The page saw its own event once (the echo from the hub is a duplicate) and the server's once.
    expect(got).toEqual([local.id, 'e-1']);
  });

  it('turns bus commands into hub commands and their results into answers', async () => {
    let url: string;
    ({server, url} = await start());
    server.events.handle(PlaceOrder, (e) => {
      if (e.data.sku === 'none') throw new HubError('Out of stock.');
      return {accepted: e.data.sku, quantity: e.data.quantity};
    });
    const bus = quietBus();
    const hub = bridge(url, bus, {commands: [PlaceOrder]});
    await hub.start();
    expect(await bus.send(PlaceOrder, {sku: 'tea', quantity: 2})).toEqual({accepted: 'tea', quantity: 2});
    await expect(bus.send(PlaceOrder, {sku: 'none', quantity: 1})).rejects.toThrow('Out of stock.');
  });

  it('passes over event types the page never registered, without a warning, and delivers the rest', async () => {
    let url: string;
    ({server, url} = await start());
    const rejected: string[] = [];
    // Like an element embedded alone that knows only order.placed but follows the orders topic.
    const bus = new Bus({onReject: (r) => void rejected.push(r.error)});
    const got: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    const hub = bridge(url, bus);
    await hub.start();
    await hub.follow('orders');
    server.events.publish('orders', createEnvelope(PaymentProcessed, {orderId: 'o-1', amountCents: 100}, {source: 'service:payments'}));
    server.events.publish('orders', order(1));
    await until(() => got.length === 1);
    expect(got).toEqual(['e-1']);
    expect(rejected).toEqual([]);
  });

  it('reports each retry (attempt n, next try in s) with one log line, and offline only when it gives up', async () => {
    // A port nobody listens on: take a free one and close it.
    let url: string;
    ({server, url} = await start());
    await server.close();
    server = undefined;
    const lines: string[] = [];
    const hub = bridge(url, quietBus(), {reconnect: {maxAttempts: 3, jitter: 0}, log: (_level, line) => void lines.push(line)});
    const states: unknown[] = [];
    hub.onStatus((_s, state) => void states.push(state));
    await expect(hub.start()).rejects.toThrow();
    expect(states).toEqual([
      {status: 'disconnected'},
      {status: 'connecting'},
      {status: 'reconnecting', attempt: 1, retryInMs: 0},
      {status: 'reconnecting', attempt: 2, retryInMs: 250},
      {status: 'reconnecting', attempt: 3, retryInMs: 500},
      {status: 'offline'},
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/reconnecting \(attempt 1, next try in 0\.0 s\)$/),
      expect.stringMatching(/reconnecting \(attempt 2, next try in 0\.3 s\)$/),
      expect.stringMatching(/reconnecting \(attempt 3, next try in 0\.5 s\)$/),
      expect.stringMatching(/offline: gave up reconnecting$/),
    ]);
  });

  it('refuses a command sent while offline after commandWaitMs, and sends one sent before the connection is back exactly once', async () => {
    let url: string;
    ({server, url} = await start());
    const handled: string[] = [];
    server.events.handle(PlaceOrder, (e) => (handled.push(e.id), {orderId: `o-${e.id.slice(0, 8)}`}));
    const bus = quietBus();
    const hub = bridge(url, bus, {commands: [PlaceOrder], commandWaitMs: 200});
    // Not started: the page is not connected.
    await expect(bus.send(PlaceOrder, {sku: 'tea', quantity: 1})).rejects.toMatchObject({name: 'OfflineError'});
    expect(handled).toEqual([]);
    const waiting = new HubBridge({url: `${url}/hubs/events`, bus: quietBus(), commands: [PlaceOrder], storage: undefined, log: false, commandWaitMs: 30_000});
    bridges.push(waiting);
    const answer = waiting.bus.send(PlaceOrder, {sku: 'tea', quantity: 2});
    await sleep(100);
    expect(handled).toEqual([]);
    await waiting.start();
    expect(await answer).toEqual({orderId: expect.stringMatching(/^o-/)});
    await sleep(100);
    expect(handled).toHaveLength(1);
    expect(hub.status).toBe('disconnected');
  });

  it('starts at the head, reporting truncation, when the hub refuses a stored offset (another server\'s)', async () => {
    let url: string;
    ({server, url} = await start());
    const stored = new Map([['switchboard:offsets:' + `${url}/hubs/events`, JSON.stringify({orders: 'from-another-server'})]]);
    const store = {getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v)};
    const bus = quietBus();
    const truncated: unknown[] = [];
    const got: string[] = [];
    bus.subscribe(TopicTruncated, (e) => void truncated.push(e.data));
    bus.subscribe(OrderPlaced, (e) => void got.push(e.id));
    const hub = bridge(url, bus, {storage: store});
    await hub.start();
    await until(() => server!.hub.groupSize('topic:orders') === 1);
    expect(truncated).toEqual([{topic: 'orders', fromOffset: 'from-another-server', offset: expect.stringMatching(/:0$/)}]);
    server.events.publish('orders', order(1));
    await until(() => got.length === 1);
    expect(got).toEqual(['e-1']);
  });

  it('publishes 100 events queued while offline, after connecting, in bounded batches', async () => {
    // About 1.2 KB each: all of them in one turn would make one ~120 KB transport message, over the
    // hub's 32 KB limit, and the connection would close and come back with the same message, forever.
    const Note = defineEvent({type: 'test.note', schema: z.object({n: z.number().int(), text: z.string()})});
    let url: string;
    ({server, url} = await start({registry: shopRegistry().register(Note)}));
    const bus = quietBus().register(Note);
    const hub = bridge(url, bus, {publish: {notes: ['test.note']}});
    const sent = Array.from({length: 100}, (_, n) => bus.publish(Note, {n, text: 'x'.repeat(1100)}, {source: 'test:page'}).id);
    const statuses: string[] = [];
    hub.onStatus((s) => void statuses.push(s));
    await hub.start();
    await until(() => logOf(server!).read('notes', null, 200).entries.length === 100);
    expect(logOf(server).read('notes', null, 200).entries.map((e) => e.event.id)).toEqual(sent);
    // One connection all along: no close and reconnect loop.
    expect(statuses).toEqual(['disconnected', 'connecting', 'connected']);
  });

  it('resumes from stored offsets in a new page, and reports truncation when retention dropped events', async () => {
    let url: string;
    const log = new MemoryTopicLog({topics: {orders: {maxEvents: 5}}});
    ({server, url} = await start({log}));
    const storage = new Map<string, string>();
    const store = {getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v)};
    // First page: sees e-0..e-2, then goes away.
    const first = quietBus();
    const seenFirst: string[] = [];
    first.subscribe(OrderPlaced, (e) => void seenFirst.push(e.id));
    const a = bridge(url, first, {storage: store});
    await a.start();
    await until(() => server!.hub.groupSize('topic:orders') === 1);
    for (let n = 0; n < 3; n++) await server.events.publish('orders', order(n));
    await until(() => seenFirst.length === 3);
    await sleep(10);
    await a.stop();
    // While no page is open, two more events: the reloaded page gets exactly those.
    for (let n = 3; n < 5; n++) await server.events.publish('orders', order(n));
    const second = quietBus();
    const seenSecond: string[] = [];
    second.subscribe(OrderPlaced, (e) => void seenSecond.push(e.id));
    const b = bridge(url, second, {storage: store});
    await b.start();
    await until(() => seenSecond.length === 2);
    expect(seenSecond).toEqual(['e-3', 'e-4']);
    await b.stop();
    // Ten more while away: retention (5) drops some, and the next page hears it was truncated.
    for (let n = 5; n < 15; n++) await server.events.publish('orders', order(n));
    const third = quietBus();
    const truncated: unknown[] = [];
    const seenThird: string[] = [];
    third.subscribe(TopicTruncated, (e) => void truncated.push(e.data));
    third.subscribe(OrderPlaced, (e) => void seenThird.push(e.id));
    const c = bridge(url, third, {storage: store});
    await c.start();
    await until(() => truncated.length === 1 && seenThird.length === 5);
    expect(truncated).toEqual([{topic: 'orders', fromOffset: `${log.epoch}:5`, offset: `${log.epoch}:15`}]);
    expect(seenThird).toEqual(['e-10', 'e-11', 'e-12', 'e-13', 'e-14']);
    // Recovering by query: what the server still holds is all there is to resync from.
    const page = (await (await fetch(`${url}/api/topics/orders/events`)).json()) as {events: {event: {id: string}}[]};
    expect(page.events.map((e) => e.event.id)).toEqual(seenThird);
  });
});
