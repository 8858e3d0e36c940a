import {randomUUID} from 'node:crypto';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {OrderPlaced, PRODUCTS} from '@switchboard/shop-contracts';
import {startRabbit, type RabbitServer} from '../../packages/rabbitmq/test/rabbitmq-server.js';
import {effects, ONCE_EACH, until} from './shop-nodes';
import {startRabbitHub, startServicesProcess, stockAfter, type RabbitHub, type ServicesProcess} from './shop-rabbit';

let rabbit: RabbitServer;

beforeAll(async () => {
  rabbit = await startRabbit();
}, 180_000);

afterAll(async () => {
  await rabbit?.stop();
});

/** Places `n` orders of one unit, spread over the products, as the `order.place` command does; returns their ids and units per sku. */
function placeOrders(hub: RabbitHub, n: number): {ids: string[]; reserved: Map<string, number>} {
  const ids: string[] = [];
  const reserved = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const sku = PRODUCTS[i % PRODUCTS.length]!.sku;
    const orderId = `o-${randomUUID()}`;
    hub.shop.bus.publish(OrderPlaced, {orderId, sku, quantity: 1}, {source: 'service:orders'});
    ids.push(orderId);
    reserved.set(sku, (reserved.get(sku) ?? 0) + 1);
  }
  return {ids, reserved};
}

/** Waits until every order has `final` and its notification, then a little longer for any duplicate, and returns the counts. */
async function settle(hub: RabbitHub, ids: readonly string[], final: string): Promise<Map<string, Record<string, number>>> {
  await until(async () => {
    const byOrder = await effects(hub.server);
    return ids.every((id) => byOrder.get(id)?.[final] === 1 && byOrder.get(id)?.['notification.raised'] === 1);
  }, 60_000, `every order ${final}`);
  // Anything handled twice would publish within this window (shipping waits 0 ms here).
  await new Promise((r) => setTimeout(r, 500));
  return effects(hub.server);
}

/** Each product's level in the hub's inventory read model. */
function levels(hub: RabbitHub): Record<string, number> {
  return Object.fromEntries(hub.shop.inventory().map((p) => [p.sku, p.level]));
}

describe('the shop\'s services on RabbitMQ, in their own processes', () => {
  it('two service processes share the work and each order reaches its final state exactly once', async () => {
    const url = await rabbit.vhost();
    const processes: ServicesProcess[] = [];
    const hub = await startRabbitHub(url);
    try {
      processes.push(await startServicesProcess(url), await startServicesProcess(url));
      const {ids, reserved} = placeOrders(hub, 20);
      const byOrder = await settle(hub, ids, 'order.shipped');
      for (const id of ids) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
      // Competing consumers: both processes handled events, and no event twice (5 services' deliveries per order).
      expect(processes[0]!.handled()).toBeGreaterThan(0);
      expect(processes[1]!.handled()).toBeGreaterThan(0);
      await until(() => levels(hub)['tea-sencha'] === stockAfter(reserved)['tea-sencha'], 5000, 'inventory read model');
      expect(levels(hub)).toEqual(stockAfter(reserved));
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await hub.close();
    }
  }, 90_000);

  it('a service process killed with SIGKILL mid-flow loses nothing and doubles nothing', async () => {
    const url = await rabbit.vhost();
    const hub = await startRabbitHub(url);
    // Shipping waits, so orders are in flight (delivered, unacknowledged) in both processes when one dies.
    const env = {SHIPPING_DELAY_MS: '300'};
    const [a, b] = [await startServicesProcess(url, env), await startServicesProcess(url, env)];
    try {
      const {ids, reserved} = placeOrders(hub, 40);
      await until(async () => {
        const byOrder = await effects(hub.server);
        return ids.filter((id) => byOrder.get(id)?.['order.confirmed'] === 1).length >= 10;
      }, 30_000, 'ten orders confirmed');
      const before = await effects(hub.server);
      const shippedBefore = ids.filter((id) => before.get(id)?.['order.shipped'] === 1).length;
      expect(a.handled()).toBeGreaterThan(0);
      await a.kill();
      // Mid-flow: orders were still on their way when it died.
      expect(shippedBefore).toBeLessThan(ids.length);
      const byOrder = await settle(hub, ids, 'order.shipped');
      for (const id of ids) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
      await until(() => JSON.stringify(levels(hub)) === JSON.stringify(stockAfter(reserved)), 5000, 'inventory read model').catch(() => {});
      // No stock reserved twice: every level is the start less one unit per order of it.
      expect(levels(hub)).toEqual(stockAfter(reserved));
      expect(b.handled()).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.kill(), b.stop()]);
      await hub.close();
    }
  }, 90_000);

  it('the saga compensates a failed payment: stock released, order cancelled, each once', async () => {
    const url = await rabbit.vhost();
    const hub = await startRabbitHub(url);
    const processes = [await startServicesProcess(url, {PAYMENT_FAILURE_RATE: '1'}), await startServicesProcess(url, {PAYMENT_FAILURE_RATE: '1'})];
    try {
      const {ids} = placeOrders(hub, 10);
      const byOrder = await settle(hub, ids, 'order.cancelled');
      for (const id of ids) {
        expect(byOrder.get(id), id).toEqual({
          'order.placed': 1,
          'inventory.reserved': 1,
          'payment.failed': 1,
          'inventory.released': 1,
          'order.cancelled': 1,
          'notification.raised': 1,
        });
        expect(hub.shop.order(id)?.status).toBe('cancelled');
      }
      expect(levels(hub)).toEqual(stockAfter(new Map()));
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await hub.close();
    }
  }, 90_000);
});
