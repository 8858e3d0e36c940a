/**
 * The demo on Redis (REDIS_URL), two nodes of this spec's own on a redis-server of its own (AOF
 * on): orders show across nodes, survive a reload, a full restart of every node and a restart of
 * Redis. Runs in the `redis` project only.
 */
import {expect, test, type Page} from '@playwright/test';
import {startRedis, type RedisServer} from '../packages/hub/test/redis-server.js';
import {OwnServer} from './own-server';
import {openShellAt, pageErrors, placeOrder, tracked} from './support';

test.describe.configure({mode: 'serial'});

let redis: RedisServer;
let a: OwnServer;
let b: OwnServer;
test.beforeAll(async () => {
  redis = await startRedis({aof: true});
  const env = {REDIS_URL: redis.url, PAYMENT_FAILURE_RATE: '0'};
  [a, b] = await Promise.all([OwnServer.start(env), OwnServer.start(env)]);
});
test.afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

const openShell = (page: Page, node: OwnServer) => openShellAt(page, `${node.url}/`);

/** The order ids and statuses a node's read model lists, by id. */
async function listed(node: OwnServer): Promise<string[]> {
  const {orders} = (await (await fetch(`${node.url}/api/orders`)).json()) as {orders: Array<{orderId: string; status: string}>};
  return orders.map((o) => `${o.orderId} ${o.status}`).sort();
}

const placed: string[] = [];

test('an order placed on one node shows in its tracker, and in a page of the other node; a reload keeps it', async ({context}) => {
  const onA = await context.newPage();
  const onB = await context.newPage();
  const errors = [...pageErrors(onA), ...pageErrors(onB)];
  await openShell(onA, a);
  await openShell(onB, b);
  const orderId = await placeOrder(onA, 'tea-oolong', 2);
  placed.push(orderId);
  await expect(tracked(onA, orderId)).toHaveAttribute('data-status', 'shipped');
  await expect(tracked(onB, orderId)).toHaveAttribute('data-status', 'shipped');
  await onB.reload();
  await openShell(onB, b);
  await expect(tracked(onB, orderId).locator('li[data-done]')).toHaveText(['placed', 'reserved', 'paid', 'confirmed', 'shipped']);
  expect(await listed(b)).toEqual(await listed(a));
  expect(errors).toEqual([]);
});

test('a full restart of every node keeps the orders: the open page shows them once it reconnects, and new orders go on', async ({page}) => {
  await openShell(page, a);
  const orderId = await placeOrder(page);
  placed.push(orderId);
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  const level = await page.locator('shop-inventory tr[data-sku="tea-assam"] td.level').textContent();

  await Promise.all([a.stop(), b.stop()]);
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'reconnecting');
  await Promise.all([a.start(), b.start()]);
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected', {timeout: 20_000});
  // Not a fresh shop: the orders and the stock are what they were.
  for (const id of placed) await expect(tracked(page, id)).toHaveAttribute('data-status', 'shipped');
  await expect(page.locator('shop-inventory tr[data-sku="tea-assam"] td.level')).toHaveText(level!);
  expect((await listed(a)).filter((o) => placed.some((id) => o.startsWith(id)))).toEqual(placed.map((id) => `${id} shipped`).sort());
  expect(await listed(b)).toEqual(await listed(a));
  const next = await placeOrder(page);
  placed.push(next);
  await expect(tracked(page, next)).toHaveAttribute('data-status', 'shipped');
});

test('Redis killed and restarted (AOF) under open pages: the orders are kept, and an order placed afterwards is handled once', async ({context}) => {
  const onA = await context.newPage();
  const onB = await context.newPage();
  await openShell(onA, a);
  await openShell(onB, b);
  await redis.kill();
  await redis.restart();
  const orderId = await placeOrder(onB, 'tea-sencha', 1);
  placed.push(orderId);
  await expect(tracked(onA, orderId)).toHaveAttribute('data-status', 'shipped');
  await expect(tracked(onB, orderId)).toHaveAttribute('data-status', 'shipped');
  // Handled once: one shipped notification for it on an open page.
  await expect(onB.locator('shop-notifications li', {hasText: `Order ${orderId} has shipped.`})).toHaveCount(1);
  await onA.reload();
  await openShell(onA, a);
  for (const id of placed) await expect(tracked(onA, id)).toHaveAttribute('data-status', 'shipped');
  expect(await listed(a)).toEqual(placed.map((id) => `${id} shipped`).sort());
  expect(await listed(b)).toEqual(await listed(a));
});
