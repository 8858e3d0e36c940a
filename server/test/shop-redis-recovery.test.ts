/**
 * The shop's read models and services across Redis outages and restarts: a node cut off from Redis
 * while orders go through another, Redis killed and restarted (AOF), Redis losing its data.
 * Afterwards both nodes' `/api/orders` agree and each order's side effects happened exactly once.
 */
import {createEnvelope} from '@switchboard/contracts';
import {PlaceOrder, PRODUCTS} from '@switchboard/shop-contracts';
import {afterEach, describe, expect, it} from 'vitest';
import {startRedis, type RedisServer} from '../../packages/hub/test/redis-server.js';
import {RedisLink, settled, ONCE_EACH, startShopNode, stopShopNode, until, type ShopNode} from './shop-nodes';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

async function redisWithAof(aof: boolean | 'always'): Promise<RedisServer> {
  const redis = await startRedis({aof});
  cleanup.push(() => redis.stop());
  return redis;
}

async function node(name: string, prefix: string, url: string, shippingDelayMs = 0): Promise<ShopNode> {
  const started = await startShopNode(name, prefix, url, shippingDelayMs);
  cleanup.push(() => stopShopNode(started));
  return started;
}

const skus = PRODUCTS.map((p) => p.sku);

/** An `order.place` command. */
const command = (i: number) => createEnvelope(PlaceOrder, {sku: skus[i % skus.length]!, quantity: 1}, {source: 'test'});

/** Sends a command through a node; the order's id, or undefined when the node refused it (Redis unreachable). */
async function place(through: ShopNode, placing: ReturnType<typeof command>): Promise<string | undefined> {
  return through.server.events.command(placing).then(
    (r) => (r as {orderId: string}).orderId,
    () => undefined,
  );
}

/** Sends a command through a node, the same command again while it is refused (as the page does). */
async function placeSurely(through: ShopNode, i: number | ReturnType<typeof command>): Promise<string> {
  const placing = typeof i === 'number' ? command(i) : i;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const orderId = await place(through, placing);
    if (orderId !== undefined) return orderId;
  }
  throw new Error('no order accepted within 30 s');
}

/** What a node's `GET /api/orders` lists, by order id (the order of the list depends on what the node heard first). */
async function listed(n: ShopNode): Promise<Array<{orderId: string; status: string}>> {
  const {orders} = (await (await fetch(`${n.url}/api/orders`)).json()) as {orders: Array<{orderId: string; status: string}>};
  return orders.sort((x, y) => (x.orderId < y.orderId ? -1 : 1));
}

const shipped = (n: ShopNode, ids: readonly string[]) => ids.every((id) => n.shop.orders().find((o) => o.orderId === id)?.status === 'shipped');

/** Both nodes list exactly `ids`, all shipped, the same; each order's side effects happened once. */
async function agreeAndOnce(a: ShopNode, b: ShopNode, ids: readonly string[]): Promise<void> {
  await until(() => shipped(a, ids) && shipped(b, ids), 60_000, 'every order shipped in both read models');
  const [onA, onB] = [await listed(a), await listed(b)];
  expect(onA.map((o) => o.orderId)).toEqual([...ids].sort());
  expect(onB).toEqual(onA);
  const counts = await settled(a.server, ids);
  for (const id of ids) expect({id, ...counts.get(id)}).toEqual({id, ...ONCE_EACH});
  expect(b.shop.inventory()).toEqual(a.shop.inventory());
}

describe('the shop across Redis outages', () => {
  it('a node cut off from Redis for 3 s while orders go through the other catches up from where it was: both read models agree, each order handled once', async () => {
    const redis = await redisWithAof('always');
    const link = await RedisLink.open(redis.port);
    cleanup.push(() => link.cut());
    const a = await node('node-a', 'cut', redis.url);
    const b = await node('node-b', 'cut', link.url);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await placeSurely(i % 2 === 0 ? a : b, i));
    await until(() => shipped(a, ids) && shipped(b, ids), 30_000, 'the first orders shipped on both nodes');

    await link.cut();
    const cutAt = Date.now();
    const during: string[] = [];
    for (let i = 0; i < 10; i++) during.push(await placeSurely(a, i));
    // Node A handles them all (node B cannot take any), while node B hears nothing.
    await until(() => shipped(a, during), 30_000, 'the orders placed during the cut shipped on node A');
    await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - cutAt))));
    expect(during.some((id) => b.shop.orders().some((o) => o.orderId === id))).toBe(false);
    await link.restore();

    ids.push(...during);
    for (let i = 0; i < 4; i++) ids.push(await placeSurely(i % 2 === 0 ? a : b, i));
    await agreeAndOnce(a, b, ids);
  }, 120_000);

  it('Redis killed and restarted (AOF) while orders are placed through both nodes: nothing acknowledged is lost, both read models agree, each order handled once', async () => {
    const redis = await redisWithAof('always');
    const a = await node('node-a', 'restart', redis.url);
    const b = await node('node-b', 'restart', redis.url);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await placeSurely(i % 2 === 0 ? a : b, i));

    await redis.kill();
    // Down for 3 s: whatever the nodes acknowledge meanwhile (nothing, as they refuse) must survive.
    const downUntil = Date.now() + 3000;
    const refused: Array<ReturnType<typeof command>> = [];
    for (let i = 0; Date.now() < downUntil; i++) {
      const placing = command(i);
      const orderId = await place(i % 2 === 0 ? a : b, placing);
      if (orderId === undefined) refused.push(placing);
      else ids.push(orderId);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(refused.length).toBeGreaterThan(0);
    await redis.restart();
    // Refused commands sent again (through the other node, too) are each placed once, whether or not their first try got stored.
    for (const [i, placing] of refused.entries()) ids.push(await placeSurely(i % 2 === 0 ? b : a, placing));
    for (let i = 0; i < 10; i++) ids.push(await placeSurely(i % 2 === 0 ? a : b, i));
    await agreeAndOnce(a, b, ids);
  }, 120_000);

  it('a node stopped while an order waits to ship had not acknowledged it: the next node ships it, once', async () => {
    const redis = await redisWithAof(false);
    const a = await node('node-a', 'shipping', redis.url, 60_000);
    const orderId = await placeSurely(a, 0);
    await until(() => a.shop.orders().find((o) => o.orderId === orderId)?.status === 'confirmed', 30_000, 'the order confirmed, waiting to ship');
    await stopShopNode(a);
    const b = await node('node-b', 'shipping', redis.url);
    await until(() => b.shop.orders().find((o) => o.orderId === orderId)?.status === 'shipped', 30_000, 'the order shipped by the next node');
    expect({orderId, ...(await settled(b.server, [orderId])).get(orderId)}).toEqual({orderId, ...ONCE_EACH});
  }, 60_000);

  it('Redis lost its data (no AOF): both nodes rebuild their read models from what is there, make the consumer groups again, and handle new orders once', async () => {
    const redis = await redisWithAof(false);
    const a = await node('node-a', 'lost', redis.url);
    const b = await node('node-b', 'lost', redis.url);
    const before: string[] = [];
    for (let i = 0; i < 4; i++) before.push(await placeSurely(i % 2 === 0 ? a : b, i));
    await until(() => shipped(a, before) && shipped(b, before), 30_000, 'the first orders shipped on both nodes');

    await redis.kill();
    await redis.restart();
    // What the nodes showed is gone from Redis: they show what is there (nothing), as fresh nodes would.
    await until(async () => (await listed(a)).length === 0 && (await listed(b)).length === 0, 30_000, 'both read models rebuilt empty');
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(await placeSurely(i % 2 === 0 ? a : b, i));
    await agreeAndOnce(a, b, after);
  }, 120_000);
});
