import {createEnvelope, type Envelope} from '@switchboard/contracts';
import {ChangeSettings, OrderPlaced, PlaceOrder, Restock} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import {jwtAuthenticator, MemoryTopicLog, type SwitchboardServer} from '@switchboard/hub';
import {SignJWT} from 'jose';
import {applyOrderEvent, orderState} from '../src/domain/order-state';
import {Shop, shopPolicies, type ShopOptions} from '../src/domain/shop';
import {startServer, logOf} from './helpers';

let server: SwitchboardServer | undefined;
/** The server's log, read synchronously by the checks below. */
let log = new MemoryTopicLog();
let shop: Shop | undefined;
afterEach(async () => {
  shop?.close();
  await server?.close();
  server = shop = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

async function open(options: Partial<ShopOptions> = {}): Promise<{url: string; shop: Shop}> {
  let url: string;
  log = new MemoryTopicLog();
  // As main.ts runs it with AUTH_JWT_SECRET and AUTH_ALLOW_ANONYMOUS=1: pages anonymous, producers with tokens.
  ({server, url} = await startServer({log, ...shopPolicies, endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}}));
  shop = new Shop({events: server.events, logger: pino({level: 'silent'}), shippingDelayMs: 0, retry: {attempts: 3, backoffMs: 1}, ...options});
  server.addRoutes(shop.routes);
  return {url, shop};
}

/** Events of `topic` as the server retained them, by type. */
function topicTypes(topic: string): string[] {
  return log.read(topic, null, 1000).entries.map((e) => e.event.type);
}

function flow(correlationId: string): Envelope[] {
  return ['orders', 'inventory', 'notifications']
    .flatMap((t) => log.read(t, null, 1000).entries.map((e) => e.event))
    .filter((e) => e.correlationId === correlationId);
}

const SECRET = 'shop-test-secret-at-least-32-bytes-long!';
/** Headers of a point-of-sale system granted to publish orders (the only outsider the services trust). */
async function producer(): Promise<Record<string, string>> {
  const token = await new SignJWT({scope: 'publish:orders'}).setProtectedHeader({alg: 'HS256'}).setSubject('pos').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
  return {'content-type': 'application/json', authorization: `Bearer ${token}`};
}

const place = (sku = 'tea-sencha', quantity = 2) => createEnvelope(PlaceOrder, {sku, quantity}, {source: 'mfe:shop-order-form'});

describe('the order saga', () => {
  it('takes an order from placed to shipped, every event carrying the command’s correlation', async () => {
    const {shop} = await open({random: () => 0.99});
    const command = place('tea-sencha', 2);
    const {orderId} = (await server!.events.command(command)) as {orderId: string};
    await until(() => shop.order(orderId)?.status === 'shipped');
    expect(shop.order(orderId)!.history.map((h) => h.type)).toEqual(['order.placed', 'inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped']);
    const events = flow(command.correlationId);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['order.placed', 'inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped', 'notification.raised']));
    // Causation forms one chain back to the command.
    const placed = events.find((e) => e.type === 'order.placed')!;
    expect(placed.causationId).toBe(command.id);
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const e of events.filter((x) => x !== placed)) expect(byId.has(e.causationId!) || e.causationId === command.id).toBe(true);
    expect(shop.inventory().find((p) => p.sku === 'tea-sencha')!.level).toBe(18);
    expect(shop.orders()[0]).toMatchObject({orderId, status: 'shipped'});
  });

  it('compensates a failed payment: the stock goes back and the order is cancelled saying so', async () => {
    const {shop} = await open({random: () => 0});
    const {orderId} = (await server!.events.command(place('tea-assam', 3))) as {orderId: string};
    await until(() => shop.order(orderId)?.status === 'cancelled');
    const order = shop.order(orderId)!;
    expect(order.history.map((h) => h.type)).toEqual(['order.placed', 'inventory.reserved', 'payment.failed', 'inventory.released', 'order.cancelled']);
    expect(order).toMatchObject({reason: 'Payment failed: Card declined', compensated: ['released 3 × tea-assam']});
    expect(shop.inventory().find((p) => p.sku === 'tea-assam')!.level).toBe(20);
    expect(topicTypes('notifications')).toContain('notification.raised');
  });

  it('cancels an order the shelf cannot fill, touching no stock', async () => {
    const {shop} = await open({random: () => 0.99, initialStock: {'tea-oolong': 1}});
    const {orderId} = (await server!.events.command(place('tea-oolong', 2))) as {orderId: string};
    await until(() => shop.order(orderId)?.status === 'cancelled');
    expect(shop.order(orderId)).toMatchObject({reason: 'Only 1 × Oolong left', compensated: []});
    expect(shop.inventory().find((p) => p.sku === 'tea-oolong')!.level).toBe(1);
  });

  it('refuses an order for an unknown product as a command rejection', async () => {
    await open();
    await expect(server!.events.command(place('coffee', 1))).rejects.toThrow('Unknown product "coffee".');
  });

  it('warns about low stock', async () => {
    const {shop} = await open({random: () => 0.99, initialStock: {'tea-sencha': 6}});
    const {orderId} = (await server!.events.command(place('tea-sencha', 2))) as {orderId: string};
    await until(() => shop.order(orderId)?.status === 'shipped');
    const notes = log.read('notifications', null, 100).entries.map((e) => (e.event.data as {message: string}).message);
    expect(notes).toContain('Low stock: 4 × Sencha left.');
  });
});

describe('idempotent consumers and dead letters', () => {
  it('changes nothing when the same order arrives again, whether with the same id or a new one', async () => {
    const {url, shop} = await open({random: () => 0.99});
    const first = createEnvelope(OrderPlaced, {orderId: 'o-ext', sku: 'tea-sencha', quantity: 5}, {source: 'urn:pos'});
    const again = createEnvelope(OrderPlaced, {orderId: 'o-ext', sku: 'tea-sencha', quantity: 5}, {source: 'urn:pos'});
    for (const e of [first, first, again]) {
      expect((await fetch(`${url}/api/topics/orders/events`, {method: 'POST', headers: await producer(), body: JSON.stringify(e)})).status).toBe(202);
    }
    await until(() => shop.order('o-ext')?.status === 'shipped');
    await sleep(20);
    expect(shop.inventory().find((p) => p.sku === 'tea-sencha')!.level).toBe(15);
    expect(topicTypes('inventory').filter((t) => t === 'inventory.reserved')).toHaveLength(1);
    expect(topicTypes('orders').filter((t) => t === 'payment.processed')).toHaveLength(1);
  });

  it('sends an event a service cannot handle, after its retries, to the dead-letter topic', async () => {
    const {url} = await open();
    const poison = createEnvelope(OrderPlaced, {orderId: 'o-poison', sku: 'tea-unknown', quantity: 1}, {source: 'urn:pos'});
    expect((await fetch(`${url}/api/topics/orders/events`, {method: 'POST', headers: await producer(), body: JSON.stringify(poison)})).status).toBe(202);
    await until(() => topicTypes('notifications').includes('deadletter.recorded'));
    const letter = log.read('notifications', null, 100).entries.find((e) => e.event.type === 'deadletter.recorded')!.event;
    expect(letter.data).toEqual({eventId: poison.id, eventType: 'order.placed', subscriber: 'service:inventory', error: 'inventory has no product "tea-unknown"', attempt: 3});
    expect(letter).toMatchObject({correlationId: poison.correlationId, causationId: poison.id});
  });
});

describe('event sourcing and read models', () => {
  it('folds an order’s events into its state, never moving back from a final status', () => {
    const e = (type: string, data: Record<string, unknown>) => ({id: type, type, version: 1, time: 't', source: 's', correlationId: 'c', data});
    const placed = e('order.placed', {orderId: 'o', sku: 's', quantity: 1});
    expect(applyOrderEvent(undefined, e('payment.processed', {orderId: 'o'}))).toBeUndefined();
    const steps = ['inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped'];
    let state = applyOrderEvent(undefined, placed);
    const statuses = [state!.status];
    for (const step of steps) statuses.push((state = applyOrderEvent(state, e(step, {orderId: 'o'})))!.status);
    expect(statuses).toEqual(['placed', 'reserved', 'paid', 'confirmed', 'shipped']);
    expect(applyOrderEvent(state, e('order.cancelled', {orderId: 'o', reason: 'late', compensated: []}))!.status).toBe('shipped');
    expect(orderState([placed, e('order.cancelled', {orderId: 'o', reason: 'x', compensated: ['y']})])).toMatchObject({status: 'cancelled', reason: 'x', compensated: ['y']});
  });

  it('answers GET /api/orders, /api/orders/{id} (rebuilt from events) and /api/inventory; restocks by command', async () => {
    const {url} = await open({random: () => 0.99});
    const {orderId} = (await server!.events.command(place('tea-oolong', 1))) as {orderId: string};
    await until(() => shop!.order(orderId)?.status === 'shipped');
    const orders = (await (await fetch(`${url}/api/orders`)).json()) as {orders: {orderId: string; status: string}[]};
    expect(orders.orders).toEqual([expect.objectContaining({orderId, status: 'shipped'})]);
    const one = (await (await fetch(`${url}/api/orders/${orderId}`)).json()) as {status: string; events: Envelope[]};
    expect(one.status).toBe('shipped');
    expect(one.events.map((e) => e.type)).toEqual(['order.placed', 'inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped']);
    expect((await fetch(`${url}/api/orders/o-none`)).status).toBe(404);
    expect(await server!.events.command(createEnvelope(Restock, {sku: 'tea-oolong', quantity: 5}, {source: 'mfe:inventory'}))).toEqual({level: 24});
    await until(() => shop!.inventory().find((p) => p.sku === 'tea-oolong')!.level === 24);
    const inventory = (await (await fetch(`${url}/api/inventory`)).json()) as {products: {sku: string; level: number}[]};
    expect(inventory.products.find((p) => p.sku === 'tea-oolong')!.level).toBe(24);
    const settings = await fetch(`${url}/api/settings`, {method: 'PUT', body: JSON.stringify({paymentFailureRate: 1})});
    expect(await settings.json()).toEqual({paymentFailureRate: 1, offsets: {settings: logOf(server!).head('settings')}});
    expect((await fetch(`${url}/api/settings`, {method: 'PUT', body: '{"paymentFailureRate": 2}'})).status).toBe(400);
  });
});

describe('read models with offsets', () => {
  it('answer with the head offset of each topic they reflect, consistent with their data', async () => {
    const {url} = await open({random: () => 0.99});
    const empty = (await (await fetch(`${url}/api/orders`)).json()) as {orders: unknown[]; offsets: Record<string, string | null>};
    expect(empty).toEqual({orders: [], next: null, offsets: {orders: null, inventory: null}});
    const {orderId} = (await server!.events.command(place('tea-assam', 1))) as {orderId: string};
    await until(() => shop!.order(orderId)?.status === 'shipped');
    const orders = (await (await fetch(`${url}/api/orders`)).json()) as {orders: {orderId: string; status: string}[]; offsets: Record<string, string>};
    expect(orders.offsets).toEqual({orders: logOf(server!).head('orders'), inventory: logOf(server!).head('inventory')});
    expect(orders.orders).toEqual([expect.objectContaining({orderId, status: 'shipped'})]);
    const inventory = (await (await fetch(`${url}/api/inventory`)).json()) as {products: {sku: string; level: number}[]; offsets: Record<string, string>};
    expect(inventory.offsets).toEqual({inventory: logOf(server!).head('inventory')});
    expect(inventory.products.find((p) => p.sku === 'tea-assam')!.level).toBe(19);
    // Every event up to the head is in the data: replaying the topic after the head gives nothing.
    expect(logOf(server!).read('orders', orders.offsets['orders']!, 10).entries).toEqual([]);
  });

  it('the inventory read model and its offset always move together, step by step', async () => {
    const {url} = await open();
    for (let n = 1; n <= 3; n++) {
      await server!.events.command(createEnvelope(Restock, {sku: 'tea-sencha', quantity: n}, {source: 'mfe:inventory'}));
      const answer = (await (await fetch(`${url}/api/inventory`)).json()) as {products: {sku: string; level: number}[]; offsets: Record<string, string>};
      const head = logOf(server!).read('inventory', null, 10).entries.at(-1)!;
      // The data is exactly the state after the event at the answered offset.
      expect(answer.offsets['inventory']).toBe(head.offset);
      expect(answer.products.find((p) => p.sku === 'tea-sencha')!.level).toBe((head.event.data as {level: number}).level);
    }
  });
});

describe('settings as events', () => {
  it('the settings.change command publishes settings.changed on the settings topic, and payments follow it', async () => {
    const {url, shop} = await open({paymentFailureRate: 0.2});
    expect(await (await fetch(`${url}/api/settings`)).json()).toEqual({paymentFailureRate: 0.2, offsets: {settings: null}});
    const command = createEnvelope(ChangeSettings, {paymentFailureRate: 1}, {source: 'shell'});
    expect(await server!.events.command(command)).toEqual({paymentFailureRate: 1});
    const [entry] = logOf(server!).read('settings', null, 10).entries;
    expect(entry!.event).toMatchObject({type: 'settings.changed', data: {paymentFailureRate: 1}, causationId: command.id});
    expect(shop.paymentFailureRate).toBe(1);
    expect(await (await fetch(`${url}/api/settings`)).json()).toEqual({paymentFailureRate: 1, offsets: {settings: entry!.offset}});
    // PUT is a thin wrapper over the same event.
    await fetch(`${url}/api/settings`, {method: 'PUT', body: JSON.stringify({paymentFailureRate: 0})});
    expect(topicTypes('settings')).toEqual(['settings.changed', 'settings.changed']);
    expect(shop.paymentFailureRate).toBe(0);
    await expect(server!.events.command({...command, id: 'x-1', data: {paymentFailureRate: 3}})).rejects.toThrow();
    expect(shop.paymentFailureRate).toBe(0);
  });
});
