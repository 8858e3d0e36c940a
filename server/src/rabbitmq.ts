import {ORDERS_TOPIC, shopTopics} from '@switchboard/shop-contracts';
import type {SwitchboardServer} from '@switchboard/hub';
import {RabbitBridge} from '@switchboard/rabbitmq';

/** Exchange other sales channels publish `order.placed` to (as envelopes or CloudEvents). */
export const SALES_EXCHANGE = 'shop.sales';
/** Exchange the shop's topics are published to, routing key = event type, for services in any language. */
export const EVENTS_EXCHANGE = 'shop.events';

/**
 * The demo on RabbitMQ (`AMQP_URL`): orders another sales channel publishes to `shop.sales` reach
 * the orders topic as a granted producer's (so the saga runs and pages show them); every shop
 * topic is published to `shop.events` with confirms, for back-end services to consume.
 */
export function shopBridge(url: string, server: SwitchboardServer): RabbitBridge {
  return new RabbitBridge({
    url,
    server,
    ingest: [
      {
        topic: ORDERS_TOPIC,
        queue: 'shop.sales.orders',
        exchange: SALES_EXCHANGE,
        routingKeys: ['order.placed'],
        as: {userId: 'amqp:sales-channel', claims: {scope: `publish:${ORDERS_TOPIC}`}},
      },
    ],
    egress: [{topics: Object.keys(shopTopics), exchange: EVENTS_EXCHANGE}],
  });
}
