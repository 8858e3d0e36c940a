import {createEnvelope} from '@switchboard/contracts';
import {redisEngine, RedisKeys} from '@switchboard/hub';
import {OrderPlaced, PlaceOrder, PRODUCTS} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {startRedis, type RedisServer} from '../../packages/hub/test/redis-server.js';
import {everything, ONCE_EACH, settled, startShopNode, STOCK, stopShopNode, until, type ShopNode} from './shop-nodes';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

type Node = ShopNode;
const nodes: Node[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) await stopShopNode(node);
});

/** A shop node on the test's Redis: its topics, hub and services on Redis, its services one consumer of each group. */
async function startNode(name: string, prefix: string, url = redis.url): Promise<Node> {
  const node = await startShopNode(name, prefix, url);
  nodes.push(node);
  return node;
}

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
    for (const node of nodes.splice(0)) await stopShopNode(node);
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
    for (const node of nodes.splice(0)) await stopShopNode(node);
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
      for (const node of nodes.splice(0)) await stopShopNode(node);
      await own.stop();
    }
  }, 60_000);
});
