import {randomUUID} from 'node:crypto';
import amqp from 'amqplib';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Envelope} from '@switchboard/contracts';
import {OrderPlaced, PRODUCTS} from '@switchboard/shop-contracts';
import {startRabbit, type RabbitServer} from '../../packages/rabbitmq/test/rabbitmq-server.js';
import {effects, everything, ONCE_EACH, until} from './shop-nodes';
import {placeOrders, startRabbitHub, startServicesProcess, stockAfter, type RabbitHub, type ServicesProcess} from './shop-rabbit';

// One broker, one hub and two `npm run services` processes for the whole file (each starts in
// seconds, on a loaded machine in tens of seconds); each test places orders of its own. The kill
// test runs last, since it ends one of the processes.
let rabbit: RabbitServer;
let url: string;
let hub: RabbitHub;
let a: ServicesProcess;
let b: ServicesProcess;
/** Units reserved so far by the orders that shipped, per sku: what the stock levels must reflect. */
const taken = new Map<string, number>();

beforeAll(async () => {
  rabbit = await startRabbit();
  url = await rabbit.vhost();
  hub = await startRabbitHub(url);
  // Shipping waits, so in the kill test orders are in flight (delivered, unacknowledged) when a process dies.
  [a, b] = await Promise.all([startServicesProcess(url, {SHIPPING_DELAY_MS: '300'}), startServicesProcess(url, {SHIPPING_DELAY_MS: '300'})]);
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await hub?.close();
  await rabbit?.stop();
});

/** Adds what shipped orders took to {@link taken}. */
function took(reserved: ReadonlyMap<string, number>): void {
  for (const [sku, n] of reserved) taken.set(sku, (taken.get(sku) ?? 0) + n);
}

/**
 * Changes the payment failure rate through the settings API and waits until `settings.changed` is
 * on the `shop.events` exchange: from then on it precedes, in the services' stream, every event of
 * an order placed later, so the payments service decides with the new rate.
 */
async function setFailureRate(rate: number): Promise<void> {
  const client = await amqp.connect(url);
  try {
    const channel = await client.createChannel();
    const {queue} = await channel.assertQueue('', {exclusive: true});
    await channel.bindQueue(queue, 'shop.events', 'settings.changed');
    let seen = false;
    await channel.consume(queue, (m) => {
      if (m !== null && (JSON.parse(m.content.toString()) as {data: {paymentFailureRate: number}}).data.paymentFailureRate === rate) seen = true;
    }, {noAck: true});
    const response = await fetch(`${hub.url}/api/settings`, {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify({paymentFailureRate: rate})});
    expect(response.status).toBe(200);
    await until(() => seen, 20_000, 'settings.changed on shop.events');
  } finally {
    await client.close().catch(() => {});
  }
}

/** An `order.placed` envelope as the orders service makes it. */
function placedEnvelope(): Envelope {
  const id = randomUUID();
  return {id, type: 'order.placed', version: 1, time: new Date().toISOString(), source: 'service:orders', correlationId: id, data: {orderId: `o-${id}`, sku: 'tea-assam', quantity: 1}};
}

/** Waits until every order has `final` and its notification, then a little longer for any duplicate, and returns the counts. */
async function settle(ids: readonly string[], final: string): Promise<Map<string, Record<string, number>>> {
  await until(async () => {
    const byOrder = await effects(hub.server);
    return ids.every((id) => (byOrder.get(id)?.[final] ?? 0) >= 1 && (byOrder.get(id)?.['notification.raised'] ?? 0) >= 1);
  }, 90_000, `every order ${final}`);
  // Anything handled twice would be published within this window (shipping waits 300 ms).
  await new Promise((r) => setTimeout(r, 1000));
  return effects(hub.server);
}

/** Waits until the hub's inventory read model shows the stock after {@link taken}, and checks it. */
async function expectStock(): Promise<void> {
  const want = stockAfter(taken);
  await until(() => JSON.stringify(levels()) === JSON.stringify(want), 10_000, 'the inventory read model').catch(() => {});
  expect(levels()).toEqual(want);
}

/** Each product's level in the hub's inventory read model. */
function levels(): Record<string, number> {
  return Object.fromEntries(hub.shop.inventory().map((p) => [p.sku, p.level]));
}

describe('the shop\'s services on RabbitMQ, in their own processes', () => {
  it('two service processes share the work and each order reaches its final state exactly once', async () => {
    const {ids, reserved} = placeOrders(hub, 15);
    const byOrder = await settle(ids, 'order.shipped');
    for (const id of ids) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
    // Competing consumers: both processes handled some of the deliveries.
    expect(a.handled()).toBeGreaterThan(0);
    expect(b.handled()).toBeGreaterThan(0);
    took(reserved);
    await expectStock();
  }, 120_000);

  it('dead-letters what a service cannot take, with the reason, and keeps serving', async () => {
    const client = await amqp.connect(url);
    try {
      const channel = await client.createConfirmChannel();
      // Not an event at all, straight into a service's queue; one too large; one of a type the service does not handle.
      channel.sendToQueue('shop.service.payments', Buffer.from('{"not": "an envelope"'), {persistent: true, messageId: 'garbage-1'});
      channel.sendToQueue('shop.service.shipping', Buffer.alloc(70 * 1024, 0x20), {persistent: true, messageId: 'huge-1'});
      channel.sendToQueue('shop.service.payments', Buffer.from(JSON.stringify(placedEnvelope())), {persistent: true, messageId: 'stray-1'});
      await channel.waitForConfirms();
      // A valid event its handler fails on every time: inventory has no such product.
      const bad = hub.shop.bus.publish(OrderPlaced, {orderId: `o-${randomUUID()}`, sku: 'tea-unknown', quantity: 1}, {source: 'service:orders'});
      const letters: Array<{id: unknown; reason: unknown; service: unknown}> = [];
      await until(async () => {
        for (let m = await channel.get('switchboard.dead-letter'); m !== false; m = await channel.get('switchboard.dead-letter')) {
          const headers = m.properties.headers ?? {};
          letters.push({id: m.properties.messageId, reason: headers['x-switchboard-reason'], service: headers['x-switchboard-service']});
          channel.ack(m);
        }
        return letters.length >= 4;
      }, 60_000, 'four dead letters');
      expect(letters).toEqual(expect.arrayContaining([
        {id: 'garbage-1', reason: 'the message is not JSON', service: 'payments'},
        {id: 'huge-1', reason: 'too large: 71680 bytes, the limit is 65536', service: 'shipping'},
        {id: 'stray-1', reason: 'the payments service does not handle "order.placed"', service: 'payments'},
        {id: bad.id, reason: 'inventory has no product "tea-unknown"', service: 'inventory'},
      ]));
      // Pages see the failed event as a dead letter on the notifications topic.
      const recorded = async () => (await hub.server.events.log.read('notifications', null, 1000)).entries.map((e) => e.event).filter((e) => e.type === 'deadletter.recorded');
      await until(async () => (await recorded()).length > 0, 20_000, 'the dead letter in the notifications topic');
      expect((await recorded()).map((e) => e.data)).toEqual([expect.objectContaining({eventId: bad.id, subscriber: 'service:inventory', attempt: 3})]);
      // And the services go on: the next order ships.
      const {ids, reserved} = placeOrders(hub, 1);
      const byOrder = await settle(ids, 'order.shipped');
      expect(byOrder.get(ids[0]!)).toEqual(ONCE_EACH);
      took(reserved);
    } finally {
      await client.close().catch(() => {});
    }
  }, 120_000);

  it('the saga compensates failed payments (rate 1 through the settings API): stock released, order cancelled, each once', async () => {
    await setFailureRate(1);
    try {
      const {ids} = placeOrders(hub, 6);
      const byOrder = await settle(ids, 'order.cancelled');
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
      // Every unit reserved for them is back.
      await expectStock();
    } finally {
      await setFailureRate(0);
    }
  }, 120_000);

  it('inventory.restock is decided by the inventory service, in order with reservations: a restock while orders reserve leaves stock exact', async () => {
    const sku = PRODUCTS[0]!.sku;
    const restock = (quantity: number, product: string = sku) => {
      const id = randomUUID();
      const command = {id, type: 'inventory.restock', version: 1, time: new Date().toISOString(), source: 'mfe:inventory', correlationId: id, data: {sku: product, quantity}};
      return hub.server.events.command(command) as Promise<{level: number}>;
    };
    // Twelve orders of one product reserve while three restocks of 5 go to the services.
    const orders: string[] = [];
    const answers: Array<Promise<{level: number}>> = [];
    for (let i = 0; i < 12; i++) {
      const orderId = `o-${randomUUID()}`;
      hub.shop.bus.publish(OrderPlaced, {orderId, sku, quantity: 1}, {source: 'service:orders'});
      orders.push(orderId);
      if (i % 4 === 1) answers.push(restock(5));
    }
    // Each restock is answered with the level the service set (checked against its event below).
    const levels = (await Promise.all(answers)).map((a) => a.level);
    const byOrder = await settle(orders, 'order.shipped');
    for (const id of orders) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
    // No reservation lost to a restock and no restock lost to a reservation: start − 12 + 15.
    took(new Map([[sku, 12 - 15]]));
    await expectStock();
    // One inventory.restocked per command, stored once, with the level the page was told.
    const restocked = (await everything(hub.server, 'inventory')).filter((e) => e.type === 'inventory.restocked');
    expect(restocked.map((e) => (e.data as {level: number}).level).sort()).toEqual([...levels].sort());
    // A refusal is the page's answer, with the service's reason.
    await expect(restock(1, 'tea-unknown')).rejects.toThrow('Unknown product "tea-unknown".');
  }, 120_000);

  it('a service process killed with SIGKILL mid-flow loses nothing and doubles nothing', async () => {
    const handledBefore = a.handled();
    const {ids, reserved} = placeOrders(hub, 30);
    await until(async () => {
      const byOrder = await effects(hub.server);
      return ids.filter((id) => byOrder.get(id)?.['order.confirmed'] === 1).length >= 8;
    }, 60_000, 'eight orders confirmed');
    const before = await effects(hub.server);
    const shippedBefore = ids.filter((id) => before.get(id)?.['order.shipped'] === 1).length;
    expect(a.handled()).toBeGreaterThan(handledBefore);
    await a.kill();
    // Mid-flow: orders were still on their way when it died.
    expect(shippedBefore).toBeLessThan(ids.length);
    const byOrder = await settle(ids, 'order.shipped');
    for (const id of ids) expect(byOrder.get(id), id).toEqual(ONCE_EACH);
    // The survivor handled what the dead one had taken and not acknowledged.
    expect(b.redelivered()).toBeGreaterThan(0);
    // No stock reserved twice: every level is the start less one unit per shipped order of it.
    took(reserved);
    await expectStock();
  }, 120_000);
});
