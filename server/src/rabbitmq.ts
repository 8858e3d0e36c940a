import {ORDERS_TOPIC, shopCommands, shopTopics} from '@switchboard/shop-contracts';
import type {SwitchboardServer} from '@switchboard/hub';
import {RabbitBridge, RabbitConnection, type IngestBinding, type QueueType} from '@switchboard/rabbitmq';
import type {Logger} from 'pino';
import {shopServiceTypes} from './domain/rabbit/shop-services';
import {SERVICE_COMMANDS} from './domain/services';
import {declareShopTopology, SERVICE_TOPICS, SHOP_EVENTS_EXCHANGE, SHOP_SERVICES_EXCHANGE, serviceQueue, servicesIngestQueue, topicPatterns} from './domain/rabbit/topology';

/** Exchange other sales channels publish `order.placed` to (as envelopes or CloudEvents). */
export const SALES_EXCHANGE = 'shop.sales';
/** Exchange the shop's topics are published to, routing key = event type, for services in any language. */
export const EVENTS_EXCHANGE = SHOP_EVENTS_EXCHANGE;

/**
 * The demo on RabbitMQ (`AMQP_URL`): orders another sales channel publishes to `shop.sales` reach
 * the orders topic as a granted producer's (so the saga runs and pages show them); every shop
 * topic is published to `shop.events` with confirms, where the shop's services (`RabbitServices`)
 * consume it; what they decide comes back through `shop.services` and is appended to its topic as
 * the server's (one ingest queue per topic, exactly once by envelope id). A command a service
 * decides on its own state (`inventory.restock`) goes to that service's queue by RPC, so the
 * service that owns the stock decides, in order with the reservations (the page gets its answer,
 * or `No service answered … within 5000 ms`). Its queues are of `queueType` (default quorum).
 */
export function shopBridge(url: string, server: SwitchboardServer, queueType: QueueType = 'quorum'): RabbitBridge {
  const services: IngestBinding[] = SERVICE_TOPICS.map((topic) => ({
    topic,
    queue: servicesIngestQueue(topic),
    exchange: SHOP_SERVICES_EXCHANGE,
    routingKeys: topicPatterns(topic),
    as: 'server',
  }));
  return new RabbitBridge({
    url,
    server,
    queueType,
    ingest: [
      {
        topic: ORDERS_TOPIC,
        queue: 'shop.sales.orders',
        exchange: SALES_EXCHANGE,
        routingKeys: ['order.placed'],
        as: {userId: 'amqp:sales-channel', claims: {scope: `publish:${ORDERS_TOPIC}`}},
      },
      ...services,
    ],
    egress: [{topics: Object.keys(shopTopics), exchange: EVENTS_EXCHANGE}],
    commands: shopCommands.flatMap((contract) => {
      const service = SERVICE_COMMANDS.get(contract.type);
      return service === undefined ? [] : [{contract, routingKey: serviceQueue(service)}];
    }),
  });
}

/**
 * Declares the shop's exchanges and queues (the services' queues included) before the hub
 * publishes, so the events it publishes while no services process runs wait in their queues.
 * Rejects with a clear message when the broker cannot be reached.
 */
export async function declareShopQueues(url: string, logger: Logger, queueType: QueueType = 'quorum'): Promise<void> {
  const connection = new RabbitConnection({url, logger, name: 'switchboard-hub-setup'});
  connection.use({
    opened: async (model) => {
      const channel = await model.createChannel();
      await declareShopTopology(channel, shopServiceTypes(), queueType);
      await channel.close();
    },
    closed: () => {},
  });
  await connection.start();
  await connection.close();
}
