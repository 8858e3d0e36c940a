import {createEnvelope, type Envelope} from '@switchboard/contracts';
import {redisEngine, RedisKeys, type SwitchboardServer} from '@switchboard/hub';
import {OrderPlaced, PlaceOrder, PRODUCTS} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {startRedis, type RedisServer} from '../../packages/hub/test/redis-server.js';
import {Shop} from '../src/domain/shop';
import {startServer} from './helpers';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

interface Node {
  readonly server: SwitchboardServer;
  readonly shop: Shop;
}
const nodes: Node[] = [];
afterEach(async () => {
  for (const {server, shop} of nodes.splice(0)) {
    shop.close();
    await server.close();
  }
});

const STOCK = 10_000;

/** A shop node on the test's Redis: its topics, hub and services on Redis, its services one consumer of each group. */
async function startNode(name: string, prefix: string, url = redis.url): Promise<Node> {
  const engine = redisEngine({url, prefix});
  const {server} = await startServer({engine});
  const shop = new Shop({
    events: server.events,
    logger: pino({level: 'silent'}),
    random: () => 0.99,
    paymentFailureRate: 0,
    shippingDelayMs: 0,
    initialStock: Object.fromEntries(PRODUCTS.map((p) => [p.sku, STOCK])),
    lowStockAt: 0,
    streams: {connection: engine.connection, keys: engine.keys, log: engine.log, node: name, claimIdleMs: 3000},
  });
  server.addRoutes(shop.routes);
  await shop.start();
  const node = {server, shop};
  nodes.push(node);
  return node;
}

async function until(check: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function everything(server: SwitchboardServer, topic: string): Promise<Envelope[]> {
  const events: Envelope[] = [];
  for (let after: string | null = null; ;) {
    const page = await server.events.log.read(topic, after, 1000);
    events.push(...page.entries.map((e) => e.event));
    if (page.entries.length < 1000) return events;
    after = page.next;
  }
}

/** How many events of each type each order has in the topics: the services' side effects. */
async function effects(server: SwitchboardServer): Promise<Map<string, Record<string, number>>> {
  const byOrder = new Map<string, Record<string, number>>();
  for (const topic of ['orders', 'inventory', 'notifications']) {
    for (const e of await everything(server, topic)) {
      const orderId = (e.data as {orderId?: string}).orderId;
      if (orderId === undefined) continue;
      const counts = byOrder.get(orderId) ?? {};
      counts[e.type] = (counts[e.type] ?? 0) + 1;
      byOrder.set(orderId, counts);
    }
  }
  return byOrder;
}

/** The side effects once the shipped notifications (which follow the shipment) are in, and a little after for any duplicate. */
async function settled(server: SwitchboardServer, orderIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const notified = await effects(server);
    if (orderIds.every((id) => notified.get(id)?.['notification.raised'] === 1)) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  return effects(server);
}

const ONCE_EACH = {
  'order.placed': 1,
  'inventory.reserved': 1,
  'payment.processed': 1,
  'order.confirmed': 1,
  'order.shipped': 1,
  'notification.raised': 1,
};

describe('the shop on two nodes sharing Redis', () => {
  it('handles each of 200 orders placed alternately through both nodes exactly once, shows them in both read models, and keeps them across a restart of both', async () => {
    const prefix = 'shop1';
    let [a, b] = [await startNode('node-a', prefix), await startNode('node-b', prefix)];
    const skus = PRODUCTS.map((p) => p.sku);
    const placed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const node = i % 2 === 0 ? a : b;
      const command = createEnvelope(PlaceOrder, {sku: skus[i % skus.length]!, quantity: 1 + (i % 3)}, {source: 'test'});
      const {orderId} = (await node.server.events.command(command)) as {orderId: string};
      placed.push(orderId);
    }
    const allShipped = (node: Node) => placed.every((id) => node.shop.orders().find((o) => o.orderId === id)?.status === 'shipped');
    await until(() => allShipped(a) && allShipped(b), 90_000, 'every order shipped in both read models');

    const counts = await settled(a.server, placed);
    expect([...counts.keys()].sort()).toEqual([...placed].sort());
    for (const id of placed) expect({id, ...counts.get(id)}).toEqual({id, ...ONCE_EACH});
    // The saga stays one causal chain across nodes: each step caused by the one before, one correlation.
    const all = (await Promise.all(['orders', 'inventory', 'notifications'].map((t) => everything(a.server, t)))).flat();
    const step = (type: string) => all.find((e) => e.type === type && (e.data as {orderId?: string}).orderId === placed[0])!;
    const chain = ['order.placed', 'inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped'].map(step);
    for (let i = 1; i < chain.length; i++) {
      expect(chain[i]!.causationId).toBe(chain[i - 1]!.id);
      expect(chain[i]!.correlationId).toBe(chain[0]!.correlationId);
    }
    const units = new Map<string, number>();
    for (let i = 0; i < 200; i++) units.set(skus[i % skus.length]!, (units.get(skus[i % skus.length]!) ?? 0) + 1 + (i % 3));
    const expectedLevels = skus.map((sku) => STOCK - (units.get(sku) ?? 0));
    expect(a.shop.inventory().map((p) => p.level)).toEqual(expectedLevels);
    expect(b.shop.inventory().map((p) => p.level)).toEqual(expectedLevels);

    // Both nodes go away; two new ones rebuild everything from the streams.
    for (const {server, shop} of nodes.splice(0)) {
      shop.close();
      await server.close();
    }
    [a, b] = [await startNode('node-c', prefix), await startNode('node-d', prefix)];
    expect(allShipped(a) && allShipped(b)).toBe(true);
    expect(b.shop.inventory().map((p) => p.level)).toEqual(expectedLevels);
    // And they go on: a new order is handled once.
    const {orderId} = (await b.server.events.command(createEnvelope(PlaceOrder, {sku: skus[0]!, quantity: 1}, {source: 'test'}))) as {orderId: string};
    await until(() => a.shop.orders().find((o) => o.orderId === orderId)?.status === 'shipped', 30_000, 'the new order shipped');
    expect({orderId, ...(await settled(a.server, [orderId])).get(orderId)}).toEqual({orderId, ...ONCE_EACH});
  }, 180_000);

  it("takes over an event a dead node took but never acknowledged (XAUTOCLAIM)", async () => {
    const prefix = 'shop2';
    await startNode('node-a', prefix);
    const keys = new RedisKeys(prefix);
    // The groups exist now; the node goes away and a "ghost" consumer takes the next order but dies.
    for (const {server, shop} of nodes.splice(0)) {
      shop.close();
      await server.close();
    }
    const admin = redisEngine({url: redis.url, prefix});
    await admin.start(pino({level: 'silent'}));
    const placed = createEnvelope(OrderPlaced, {orderId: 'o-ghost', sku: PRODUCTS[0]!.sku, quantity: 1}, {source: 'test'});
    await admin.log.append('orders', placed);
    const taken = await admin.connection.command<unknown>(['XREADGROUP', 'GROUP', 'service:inventory', 'ghost', 'STREAMS', keys.stream('orders'), '>']);
    expect(JSON.stringify(taken)).toContain('o-ghost');
    await admin.close();
    const second = await startNode('node-b', prefix);
    await until(() => second.shop.orders().find((o) => o.orderId === 'o-ghost')?.status === 'shipped', 30_000, 'the claimed order shipped');
    expect({orderId: 'o-ghost', ...(await settled(second.server, ['o-ghost'])).get('o-ghost')}).toEqual({orderId: 'o-ghost', ...ONCE_EACH});
  }, 60_000);
});

describe('the shop while Redis is down', () => {
  it('refuses a command with a clear error rather than acknowledging it, and takes commands again once Redis is back', async () => {
    const own = await startRedis({aof: 'always'});
    try {
      const node = await startNode('node-a', 'shop3', own.url);
      const place = () => createEnvelope(PlaceOrder, {sku: PRODUCTS[0]!.sku, quantity: 1}, {source: 'test'});
      await node.server.events.command(place());
      await own.kill();
      await new Promise((r) => setTimeout(r, 300));
      await expect(node.server.events.command(place())).rejects.toThrow(/event store is unavailable/);
      await own.restart();
      let orderId: string | undefined;
      for (const deadline = Date.now() + 20_000; orderId === undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        orderId = await node.server.events.command(place()).then((r) => (r as {orderId: string}).orderId, () => undefined);
      }
      expect(orderId).toBeDefined();
      await until(() => node.shop.orders().find((o) => o.orderId === orderId)?.status === 'shipped', 30_000, 'the order after the outage shipped');
      expect({orderId, ...(await settled(node.server, [orderId!])).get(orderId!)}).toEqual({orderId, ...ONCE_EACH});
    } finally {
      for (const {server, shop} of nodes.splice(0)) {
        shop.close();
        await server.close();
      }
      await own.stop();
    }
  }, 60_000);
});
