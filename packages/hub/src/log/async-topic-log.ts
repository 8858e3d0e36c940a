import type {Envelope} from '@switchboard/contracts';
import type {AppendBy, AppendResult, ReadResult, SyncTopicLog} from './topic-log.js';

/** An event appended to a topic, as every hub process sharing the log hears of it. */
export interface AppendedEvent {
  readonly topic: string;
  readonly offset: string;
  readonly event: Envelope;
  /**
   * The event as the log announced it (JSON text), when the log has it: forwarded as it is to
   * JSON-protocol clients, as replays forward stored events, so a live event is not parsed and
   * re-serialized on every process.
   */
  readonly json?: string;
}

/** What a log tells its watchers: appended events, and that some may have been missed. */
export interface LogWatcher {
  /** An event appended by any process sharing the log; per topic in offset order, but possibly with gaps. */
  appended(event: AppendedEvent): void;
  /**
   * The feed of appended events was interrupted (a lost connection to the engine) and is live again:
   * events appended meanwhile were not heard, so watchers re-read what they follow.
   */
  resumed?(): void;
  /**
   * Which topics to hear: every topic (the default), only those listed, or (`'followed'`) those
   * someone follows with {@link TopicLog.follow} at the time. Engines that subscribe per topic
   * (Redis) carry only what some watcher asks for, so name topics where you can.
   */
  readonly topics?: readonly string[] | 'followed';
}

/**
 * Per-topic retained logs with offsets: the server's memory of what it pushed, so a client can
 * resume from the last offset it saw. Asynchronous, so an engine (Redis Streams) can sit behind
 * it; the in-memory log is adapted with {@link asyncTopicLog}.
 *
 * Offsets are opaque to clients. Those of the engines here have the shape `<epoch>:<seq>` (or a
 * bare `<seq>`): the epoch changes when a topic's log is lost, so an old offset is recognised as
 * such rather than silently matching a new event.
 */
export interface TopicLog {
  /** Appends `event` unless an event with its id is retained already (idempotent publish). Rejects with {@link TopicLogUnavailableError} when the engine is unreachable. */
  append(topic: string, event: Envelope, by?: AppendBy): Promise<AppendResult>;
  /**
   * Appends several events to one topic in order, all or none (optional: callers fall back to one
   * {@link append} each). A duplicate in the batch (of a retained event or of an earlier one in the
   * batch) is reported as such and appended once; a refusal appends nothing.
   */
  appendMany?(topic: string, events: readonly Envelope[], by?: AppendBy): Promise<AppendResult[]>;
  /** Up to `limit` events after `after` (`null`: from the oldest retained), in order. */
  read(topic: string, after: string | null, limit: number): Promise<ReadResult>;
  /** The offset of the newest event, or `null` for an empty topic. */
  head(topic: string): Promise<string | null>;
  /**
   * The topic's position now (see `SyncTopicLog.position`): the head's offset, or, for an empty topic, an offset before its next
   * event. A reader that has seen nothing of the topic yet resumes from it and misses nothing (a
   * `null` offset would mean "from whenever I reconnect"). Optional: without it, `subscribe`
   * answers the head, `null` for an empty topic.
   */
  position?(topic: string): Promise<string>;
  /** Whether `offset` could have been produced by this log (so bad client input is refused early). */
  isOffset(offset: string): boolean;
  /** Hears every event appended to any topic, by this process or another sharing the log; returns a function that stops it. */
  watch(watcher: LogWatcher): () => void;
  /**
   * Makes watchers with `topics: 'followed'` hear `topic`'s appends from the moment it resolves
   * (so a subscriber can join live before reading history) until the returned function is called.
   * Follows of one topic are counted: it is heard until the last is released. Rejects with
   * {@link TopicLogUnavailableError} when the engine is unreachable. Optional: a log without it
   * hears every topic anyway.
   */
  follow?(topic: string): Promise<() => void>;
  /** Events retained now per topic, for metrics (optional). */
  sizes?(): Map<string, number>;
  /** Whether `topic` has a log now (metrics give only such topics their own series; optional). */
  has?(topic: string): boolean;
  /**
   * Whether `topic` holds events, for the topic budget's "does this publish create a topic"
   * (optional: `head` otherwise). May answer `true` from a few seconds' memory of an append or a
   * read, so a publish to a busy topic costs no round trip.
   */
  exists?(topic: string): Promise<boolean>;
  /** Tells a log that forgets idle topics which ones have subscribers, so it keeps them (optional). */
  setTopicInUse?(inUse: (topic: string) => boolean): void;
  /** Releases the engine's connections. */
  close?(): Promise<void>;
}

/** The engine behind a log or backplane cannot be reached: nothing was stored or sent. */
export class TopicLogUnavailableError extends Error {
  override readonly name = 'TopicLogUnavailableError';
}

/** A position in a topic: the log's epoch (empty for logs without one) and the sequence number. */
export interface Position {
  readonly epoch: string;
  readonly seq: number;
}

/** Reads an offset of shape `<epoch>:<seq>` or `<seq>`; `undefined` when it has neither. */
export function positionOf(offset: string): Position | undefined {
  const colon = offset.lastIndexOf(':');
  const seq = Number(offset.slice(colon + 1));
  if (!Number.isSafeInteger(seq) || seq < 0 || offset.length === colon + 1) return undefined;
  return {epoch: colon < 0 ? '' : offset.slice(0, colon), seq};
}

/**
 * Adapts a synchronous log (the in-memory one) to {@link TopicLog}: its watchers hear each append
 * right after it, in the same turn, so they never miss one.
 *
 * ```ts
 * const log = asyncTopicLog(new MemoryTopicLog({maxEvents: 1000}));
 * ```
 */
export function asyncTopicLog(log: SyncTopicLog): TopicLog {
  const watchers = new Set<LogWatcher>();
  const tell = (topic: string, offset: string, event: Envelope): void => {
    for (const w of watchers) if (typeof w.topics !== 'object' || w.topics.includes(topic)) w.appended({topic, offset, event});
  };
  return {
    async append(topic, event, by) {
      const result = log.append(topic, event, by);
      if (!result.duplicate) tell(topic, result.offset, event);
      return result;
    },
    async appendMany(topic, events, by) {
      // Synchronous, so all or none: only the first append can create the topic (and hit the topic cap).
      const results = events.map((event) => log.append(topic, event, by));
      results.forEach((result, i) => {
        if (!result.duplicate) tell(topic, result.offset, events[i]!);
      });
      return results;
    },
    read: async (topic, after, limit) => log.read(topic, after, limit),
    head: async (topic) => log.head(topic),
    ...(log.position === undefined ? {} : {position: async (topic: string) => log.position!(topic)}),
    isOffset: (offset) => log.isOffset(offset),
    watch(watcher) {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    ...(log.sizes === undefined ? {} : {sizes: () => log.sizes!()}),
    ...(log.has === undefined ? {} : {has: (topic: string) => log.has!(topic)}),
    ...(log.setTopicInUse === undefined ? {} : {setTopicInUse: (inUse: (topic: string) => boolean) => log.setTopicInUse!(inUse)}),
  };
}

/** Whether `log` is already asynchronous (has `watch`), rather than a {@link SyncTopicLog}. */
export function isAsyncTopicLog(log: TopicLog | SyncTopicLog): log is TopicLog {
  return typeof (log as Partial<TopicLog>).watch === 'function';
}
