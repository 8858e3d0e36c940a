import {spawnSync} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startRedis, type RedisServer} from '../../packages/hub/test/redis-server.js';
import {startRabbit, type RabbitServer} from '../../packages/rabbitmq/test/rabbitmq-server.js';
import {effects, ONCE_EACH, until} from './shop-nodes';
import {testServerArgs} from '../../scripts/test-servers.js';
import {placeOrders, startRabbitHub, startServicesProcess, stockAfter, type RabbitHub, type ServicesProcess} from './shop-rabbit';

// The services' path across failures of the parts around it: the hub, the broker. One broker for
// the file; each test has its own vhost, hub and `npm run services` process, and ends them.
let rabbit: RabbitServer;
let redis: RedisServer;

beforeAll(async () => {
  [rabbit, redis] = await Promise.all([startRabbit(), startRedis()]);
}, 180_000);

afterAll(async () => {
  await Promise.all([rabbit?.stop(), redis?.stop()]);
});

/** Orders of `ids` that have `type` in the hub's topics so far. */
async function count(hub: RabbitHub, ids: readonly string[], type: string): Promise<number> {
  const byOrder = await effects(hub.server);
  return ids.filter((id) => (byOrder.get(id)?.[type] ?? 0) >= 1).length;
}

/** Waits until every order shipped and was notified, then a little longer for any duplicate, and checks each event is there once. */
async function expectEachShippedOnce(hub: RabbitHub, ids: readonly string[]): Promise<void> {
  await until(async () => {
    const byOrder = await effects(hub.server);
    return ids.every((id) => (byOrder.get(id)?.['order.shipped'] ?? 0) >= 1 && (byOrder.get(id)?.['notification.raised'] ?? 0) >= 1);
  }, 60_000, 'every order shipped');
  await new Promise((r) => setTimeout(r, 1000));
  const byOrder = await effects(hub.server);
  for (const id of ids) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
}

/** Checks the hub's inventory read model shows the start less what the orders took. */
async function expectStock(hub: RabbitHub, reserved: ReadonlyMap<string, number>): Promise<void> {
  const want = stockAfter(reserved);
  const levels = () => Object.fromEntries(hub.shop.inventory().map((p) => [p.sku, p.level]));
  await until(() => JSON.stringify(levels()) === JSON.stringify(want), 10_000, 'the inventory read model').catch(() => {});
  expect(levels()).toEqual(want);
}

/**
 * Takes the broker away with `stop` once three of 20 orders are confirmed (the rest still in
 * flight), starts it again, and checks every order ships once and the stock is exact.
 */
async function brokerAwayMidFlow(stop: () => Promise<void>, queueType?: 'classic'): Promise<void> {
  const url = await rabbit.vhost();
  const hub = await startRabbitHub(url, queueType === undefined ? {} : {queueType});
  let services: ServicesProcess | undefined;
  try {
    services = await startServicesProcess(url, {SHIPPING_DELAY_MS: '300', ...(queueType === undefined ? {} : {AMQP_QUEUE_TYPE: queueType})});
    if (queueType === 'classic') {
      // The queues are classic ones: single active consumer where the quorum ones have it, no delivery limit.
      const queues = await rabbit.ctl('list_queues', '-p', decodeURIComponent(new URL(url).pathname.slice(1)), 'name', 'type', '--no-table-headers', '--quiet');
      expect(queues).toMatch(/shop\.service\.inventory\s+classic/);
      expect(queues).toMatch(/shop\.services\.orders\s+classic/);
    }
    const {ids, reserved} = placeOrders(hub, 20);
    await until(async () => (await count(hub, ids, 'order.confirmed')) >= 3, 30_000, 'three orders confirmed');
    await stop();
    // In flight: not every order had shipped when the broker went away.
    expect(await count(hub, ids, 'order.shipped')).toBeLessThan(ids.length);
    await rabbit.restart();
    await expectEachShippedOnce(hub, ids);
    await expectStock(hub, reserved);
  } finally {
    await services?.stop();
    await hub.close();
  }
}

describe('the shop\'s services on RabbitMQ when the hub or the broker goes away', () => {
  it('a services process refuses a queue type other than quorum or classic, before it connects', () => {
    const run = spawnSync(process.execPath, testServerArgs('services'), {
      cwd: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
      env: {...process.env, AMQP_URL: rabbit.url, AMQP_QUEUE_TYPE: 'stream'},
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toContain('AMQP_QUEUE_TYPE must be "quorum" or "classic" (got "stream")');
    expect(run.status).toBe(2);
  }, 90_000);

  it('the hub down while a services process keeps consuming, then back: no order lost or doubled', async () => {
    const url = await rabbit.vhost();
    const topics = {url: redis.url, prefix: `hub-down-${randomUUID()}:`};
    let hub = await startRabbitHub(url, {redis: topics});
    let services: ServicesProcess | undefined;
    try {
      services = await startServicesProcess(url, {SHIPPING_DELAY_MS: '300'});
      const {ids, reserved} = placeOrders(hub, 20);
      // Early in the flow (one order confirmed), so the services still hold work when the hub goes.
      await until(async () => (await count(hub, ids, 'order.confirmed')) >= 1, 30_000, 'an order confirmed');
      await until(async () => (await count(hub, ids, 'order.placed')) === ids.length, 10_000, 'every order stored');
      await hub.close();
      // Down: what the services decide waits in the broker; they go on with what they hold.
      const handled = services.handled();
      await until(() => services!.handled() > handled, 30_000, 'the services handling while the hub is down');
      hub = await startRabbitHub(url, {redis: topics});
      await expectEachShippedOnce(hub, ids);
      await expectStock(hub, reserved);
    } finally {
      await services?.stop();
      await hub.close();
    }
  }, 120_000);

  it('a broker restart (clean stop, start) with orders in flight: every order ships exactly once', () => brokerAwayMidFlow(() => rabbit.shutdown()), 120_000);

  it('classic queues (AMQP_QUEUE_TYPE=classic): a broker killed with SIGKILL with orders in flight serves again, every order ships exactly once', () =>
    brokerAwayMidFlow(() => rabbit.kill(), 'classic'), 120_000);
});
