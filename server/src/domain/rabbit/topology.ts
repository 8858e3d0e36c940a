import type {Channel} from 'amqplib';
import {shopTopics} from '@switchboard/shop-contracts';
import {DEPLOYS_TOPIC} from '@switchboard/contracts';
import {queueArguments, RABBIT_DEFAULTS, type QueueType} from '@switchboard/rabbitmq';

/** Exchange the hub publishes every shop topic to (routing key = event type); the services' queues bind to it. */
export const SHOP_EVENTS_EXCHANGE = 'shop.events';
/** Exchange the services publish what they decide to; the hub appends it to its topic (one ingest queue per topic). */
export const SHOP_SERVICES_EXCHANGE = 'shop.services';
/**
 * A RabbitMQ stream with every event of `shop.events`, read from its start by each services
 * process: the projections the services decide on (order streams, stock, the payment failure
 * rate) are rebuilt from it, and kept current.
 */
export const SHOP_EVENTS_LOG = 'shop.events.log';
/** Where messages a service gave up on go, with the reason in `x-switchboard-reason`. */
export const SHOP_DEAD_LETTERS = RABBIT_DEFAULTS.deadLetterExchange;

/** The shop topics the services' events are appended to (deploys are the registry's, not a service's). */
export const SERVICE_TOPICS: readonly string[] = Object.keys(shopTopics).filter((t) => t !== DEPLOYS_TOPIC);

/** Services that decide on state shared by all their events: one consumer at a time across processes. */
export const EXCLUSIVE_SERVICES: ReadonlySet<string> = new Set(['inventory']);

/** The limits of the shop's queues; every declarer must use the same, or the broker refuses the declare. */
export const SHOP_QUEUE_LIMITS = {
  /** Deliveries of one message before the broker dead-letters it (a message that keeps killing its consumer); quorum queues only. */
  deliveryLimit: 20,
  /** Bytes the events stream keeps; older segments are dropped. */
  eventsLogBytes: 512 * 1024 * 1024,
} as const;

/** The durable queue of one service. */
export function serviceQueue(service: string): string {
  return `shop.service.${service}`;
}

/** The hub's ingest queue of one topic's service events. */
export function servicesIngestQueue(topic: string): string {
  return `shop.services.${topic}`;
}

/** The routing keys (type patterns) of a topic's events. */
export function topicPatterns(topic: string): readonly string[] {
  return shopTopics[topic] ?? [];
}

/**
 * Declares what both sides need, idempotently: the two exchanges, the events stream, the hub's
 * ingest queues (declared as the hub's bridge declares them: `queueType`, single active consumer),
 * so no event a service publishes is unroutable while the hub is down, and each service's queue
 * bound to the types it handles, so no event the hub publishes is unroutable while services are
 * down. Every queue but the stream is of `queueType` (default quorum; the hub and every services
 * process must agree, or the broker refuses the second declare).
 */
export async function declareShopTopology(channel: Channel, services: ReadonlyMap<string, readonly string[]>, queueType: QueueType = 'quorum'): Promise<void> {
  await channel.assertExchange(SHOP_EVENTS_EXCHANGE, 'topic', {durable: true});
  await channel.assertExchange(SHOP_SERVICES_EXCHANGE, 'topic', {durable: true});
  await channel.assertExchange(SHOP_DEAD_LETTERS, 'topic', {durable: true});
  await channel.assertQueue(SHOP_DEAD_LETTERS, {durable: true, arguments: queueArguments(queueType)});
  await channel.bindQueue(SHOP_DEAD_LETTERS, SHOP_DEAD_LETTERS, '#');
  await channel.assertQueue(SHOP_EVENTS_LOG, {
    durable: true,
    arguments: {'x-queue-type': 'stream', 'x-max-length-bytes': SHOP_QUEUE_LIMITS.eventsLogBytes, 'x-stream-max-segment-size-bytes': 16 * 1024 * 1024},
  });
  await channel.bindQueue(SHOP_EVENTS_LOG, SHOP_EVENTS_EXCHANGE, '#');
  for (const topic of SERVICE_TOPICS) {
    const queue = servicesIngestQueue(topic);
    await channel.assertQueue(queue, {durable: true, arguments: queueArguments(queueType, true)});
    for (const key of topicPatterns(topic)) await channel.bindQueue(queue, SHOP_SERVICES_EXCHANGE, key);
  }
  for (const [service, types] of services) {
    const queue = serviceQueue(service);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        ...queueArguments(queueType, EXCLUSIVE_SERVICES.has(service)),
        // Classic queues count no deliveries: there a message that keeps killing its consumer comes back each time.
        ...(queueType === 'quorum' ? {'x-delivery-limit': SHOP_QUEUE_LIMITS.deliveryLimit} : {}),
        'x-dead-letter-exchange': SHOP_DEAD_LETTERS,
        'x-dead-letter-routing-key': queue,
      },
    });
    for (const type of types) await channel.bindQueue(queue, SHOP_EVENTS_EXCHANGE, type);
  }
}
