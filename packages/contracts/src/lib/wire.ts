import {z} from 'zod';

/**
 * The hub's wire contract (ARCHITECTURE.md §5), defined once and imported by both ends: the page
 * bridge (`@switchboard/signalr`) and the hub (`@switchboard/hub`). A name or shape changes here or
 * nowhere, so the two cannot drift apart.
 *
 * @example
 * ```ts
 * const result = subscribeResultSchema.parse(await connection.invoke(HubMethods.subscribe, 'orders', null));
 * connection.on(HubTargets.event, (message) => topicEventSchema.parse(message));
 * ```
 */
export const HubMethods = {
  /** `subscribe(topic, fromOffset | null)` → {@link SubscribeResult}: replay after the offset, then live. */
  subscribe: 'subscribe',
  /** `unsubscribe(topic)` → `null`. */
  unsubscribe: 'unsubscribe',
  /** `publish(topic, envelope)` → {@link PublishResult}. */
  publish: 'publish',
  /** `command(envelope)` → the command handler's result. */
  command: 'command',
} as const;

/** The hub methods a client may invoke. */
export type HubMethod = (typeof HubMethods)[keyof typeof HubMethods];

/** What the hub sends to clients: the target names the page listens on. */
export const HubTargets = {
  /** `event({topic, offset, event})`: one {@link TopicEvent} of a subscribed topic. */
  event: 'event',
} as const;

/** The client-side targets the hub invokes. */
export type HubTarget = (typeof HubTargets)[keyof typeof HubTargets];

/** What `subscribe` returns. */
export const subscribeResultSchema = z.object({
  topic: z.string(),
  /**
   * The topic's position at subscribe time: its head, or for an empty topic an offset before its
   * first event, so a client that has received nothing yet resumes from it without missing any.
   * `null` only from a hub whose log cannot tell.
   */
  offset: z.string().nullable(),
  /** True when events after the requested offset were already dropped by retention. */
  truncated: z.boolean(),
});

/** What `subscribe` returns: the topic, its head at subscribe time, and whether retention dropped events. */
export type SubscribeResult = Readonly<z.infer<typeof subscribeResultSchema>>;

/** The server → client `event` message. */
export const topicEventSchema = z.object({
  topic: z.string(),
  /** Opaque, increasing within the topic: what a client passes back as `fromOffset`. */
  offset: z.string(),
  /** The envelope as the hub stored it; the page validates it against its own contracts. */
  event: z.unknown(),
});

/** One event of a subscribed topic, as the hub pushes it. */
export type TopicEvent = Readonly<z.infer<typeof topicEventSchema>>;

/** What `publish` returns (and `POST /api/topics/{topic}/events`, with 202). */
export const publishResultSchema = z.object({
  /** Where the event sits in the topic's log (an already retained envelope id: where it was kept). */
  offset: z.string(),
});

/** What a successful publish returns. */
export type PublishResult = Readonly<z.infer<typeof publishResultSchema>>;
