/**
 * How a durable queue is kept by the broker. `quorum` (the default) replicates on a cluster and
 * survives a broker restart, but after a crash (SIGKILL) a single-node RabbitMQ 3.10 may leave it
 * unserved for minutes; `classic` durable queues (with persistent messages) are back as soon as the
 * broker is, but are not replicated and have no `x-delivery-limit`.
 */
export type QueueType = 'quorum' | 'classic';

/** Default {@link QueueType}. */
export const DEFAULT_QUEUE_TYPE: QueueType = 'quorum';

/** The queue types accepted, for options read from configuration. */
export const QUEUE_TYPES: readonly QueueType[] = ['quorum', 'classic'];

/**
 * The `x-` arguments declaring a queue of `type`, with a single active consumer when `single` is
 * true. Every declarer of one queue must pass the same, or the broker refuses the declare
 * (`PRECONDITION_FAILED`, inequivalent arg).
 *
 * ```ts
 * await channel.assertQueue('orders', {durable: true, arguments: queueArguments('classic', true)});
 * ```
 */
export function queueArguments(type: QueueType, single = false): Record<string, unknown> {
  if (!QUEUE_TYPES.includes(type)) throw new Error(`"${String(type)}" is not a queue type: use "quorum" or "classic".`);
  return {'x-queue-type': type, ...(single ? {'x-single-active-consumer': true} : {})};
}
