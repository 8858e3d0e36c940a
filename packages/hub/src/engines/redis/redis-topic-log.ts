import {randomUUID} from 'node:crypto';
import type {Envelope} from '@switchboard/contracts';
import type {Logger} from 'pino';
import type {LogWatcher, TopicLog} from '../../log/async-topic-log.js';
import {positionOf} from '../../log/async-topic-log.js';
import {DEFAULT_MAX_AGE_MS, type AppendResult, type LogEntry, type ReadResult, type Retention} from '../../log/topic-log.js';
import type {RedisKeys} from './keys.js';
import type {RedisConnection} from './redis-connection.js';
import {APPEND, READ} from './scripts.js';

/** Options of {@link RedisTopicLog}. */
export interface RedisTopicLogOptions extends Retention {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  /** Per-topic retention, overriding the defaults (10,000 events, 1 hour; `maxAgeMs: 0` keeps events regardless of age). */
  readonly topics?: Readonly<Record<string, Retention>>;
  /** How long an envelope id is remembered for idempotent publish, in seconds; default 1 hour. */
  readonly dedupeTtlSeconds?: number;
}

/** Most events and JSON characters one group-committed script call carries; past them a new call starts. */
const MAX_BATCH_EVENTS = 256;
const MAX_BATCH_BYTES = 1 << 20;

/** How long an append or a head read lets {@link RedisTopicLog.exists} answer from memory, and for how many topics. */
const KNOWN_MS = 5000;
const MAX_KNOWN = 10_000;

/** Appends to one topic gathered in one turn, sent as one script call. */
interface Batch {
  readonly ids: string[];
  readonly jsons: string[];
  bytes: number;
  readonly waiters: Array<{resolve(result: AppendResult): void; reject(error: unknown): void}>;
}

/** `<epoch>:<seq>`: the epoch is 16 hex digits, made when the topic's meta hash is created. */
const OFFSET = /^[0-9a-f]{1,32}:(0|[1-9][0-9]{0,15})$/;

/**
 * The epoch of a topic that has no meta hash yet: `position` of a topic never appended to is
 * `<ORIGIN>:0`, and a read after it starts at the topic's first event, whatever epoch the topic
 * gets at its first append (truncated only if retention already dropped some).
 */
const ORIGIN_EPOCH = '0000000000000000';

/**
 * Topic logs on Redis Streams, shared by every hub process on the same Redis (Centrifugo's design):
 * per topic a stream whose entry ids are the topic's sequence numbers, and a meta hash with the
 * epoch and the top sequence number. Append is one Lua script (dedupe, number, add, trim,
 * announce on the topic's channel), one call for all the appends to a topic made in a turn. A
 * process subscribes to a topic's channel only while it follows the topic (has local subscribers)
 * or a watcher names it. Offsets are `<epoch>:<seq>`; an offset of another epoch (the
 * stream was lost and begun anew) reads as truncated, so the page resyncs instead of trusting it.
 */
export class RedisTopicLog implements TopicLog {
  readonly #redis: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #logger: Logger;
  readonly #defaults: Required<Retention>;
  readonly #perTopic: Readonly<Record<string, Retention>>;
  readonly #dedupeTtl: number;
  readonly #followers = new Set<LogWatcher>();
  readonly #follows = new Map<string, {count: number; readonly subscribed: Promise<void>}>();
  /** Appends of this turn not yet sent, per topic. */
  readonly #batches = new Map<string, Batch>();
  /** Topics seen holding events, until when (ms): {@link exists} answers from it. */
  readonly #known = new Map<string, number>();

  constructor(options: RedisTopicLogOptions) {
    this.#redis = options.connection;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#defaults = {maxEvents: options.maxEvents ?? 10_000, maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS};
    this.#perTopic = options.topics ?? {};
    this.#dedupeTtl = options.dedupeTtlSeconds ?? 3600;
  }

  /**
   * Appends one event. Appends to the same topic made in the same turn (a frame of publishes, a
   * burst from server code) go to Redis as one script call (group commit): one round trip and one
   * age check for all of them, offsets in call order, each caller answered with its own result, or
   * all refused together when Redis refuses the call.
   */
  append(topic: string, event: Envelope): Promise<AppendResult> {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (error) {
      return Promise.reject(error);
    }
    let batch = this.#batches.get(topic);
    if (batch !== undefined && (batch.ids.length >= MAX_BATCH_EVENTS || batch.bytes >= MAX_BATCH_BYTES)) {
      this.#flush(topic);
      batch = undefined;
    }
    if (batch === undefined) {
      this.#batches.set(topic, (batch = {ids: [], jsons: [], bytes: 0, waiters: []}));
      queueMicrotask(() => this.#flush(topic));
    }
    const into = batch;
    into.ids.push(event.id);
    into.jsons.push(json);
    into.bytes += json.length;
    return new Promise((resolve, reject) => void into.waiters.push({resolve, reject}));
  }

  /** Appends `events` in one script call: all stored (duplicates answered with their first offset) or, refused, none. */
  appendMany(topic: string, events: readonly Envelope[]): Promise<AppendResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    let jsons: string[];
    try {
      jsons = events.map((e) => JSON.stringify(e));
    } catch (error) {
      return Promise.reject(error);
    }
    // Appends made before this call go first: one connection runs the calls in the order sent.
    this.#flush(topic);
    return this.#run(
      topic,
      events.map((e) => e.id),
      jsons,
    );
  }

  /** Sends the topic's gathered appends, if any, as one script call. */
  #flush(topic: string): void {
    const batch = this.#batches.get(topic);
    if (batch === undefined) return;
    this.#batches.delete(topic);
    this.#run(topic, batch.ids, batch.jsons).then(
      (results) => batch.waiters.forEach((w, i) => w.resolve(results[i]!)),
      (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
    );
  }

  async #run(topic: string, ids: readonly string[], jsons: readonly string[]): Promise<AppendResult[]> {
    const own = this.#perTopic[topic] ?? {};
    const maxAge = own.maxAgeMs ?? this.#defaults.maxAgeMs;
    // The script refuses to run past this deadline: an append that was refused to its caller (a
    // stalled Redis) is never stored later. The envelope ids cover the narrow rest (see writeDeadline).
    const timeoutMs = this.#redis.timeouts.command;
    const deadline = this.#redis.writeDeadline(timeoutMs);
    const flat = await this.#redis.script<Array<string | number>>(
      APPEND,
      [this.#keys.stream(topic), this.#keys.meta(topic), ...ids.map((id) => this.#keys.seen(topic, id))],
      [
        String(own.maxEvents ?? this.#defaults.maxEvents),
        String(Number.isFinite(maxAge) ? maxAge : 0),
        this.#keys.topicChannel(topic),
        randomUUID().replaceAll('-', '').slice(0, 16),
        String(this.#dedupeTtl),
        String(Date.now()),
        String(deadline),
        ...jsons,
      ],
      {timeoutMs},
    );
    const results: AppendResult[] = [];
    for (let i = 0; i < flat.length; i += 2) results.push({offset: String(flat[i]), duplicate: flat[i + 1] === 1});
    this.#remember(topic);
    return results;
  }

  async read(topic: string, after: string | null, limit: number): Promise<ReadResult> {
    const from = after === null ? undefined : positionOf(after);
    const start = from === undefined ? '-' : `${from.seq + 1}`;
    const [epoch, top, first, raw] = await this.#redis.script<[string, number, number, Array<[string, string[]]>]>(
      READ,
      [this.#keys.stream(topic), this.#keys.meta(topic)],
      [start, String(Math.max(1, limit))],
      {timeoutMs: this.#redis.timeouts.read},
    );
    const fromOrigin = from !== undefined && from.epoch === ORIGIN_EPOCH && from.seq === 0;
    if (fromOrigin && epoch === '') return {entries: [], truncated: false, next: after};
    // Another epoch (or a position past the top) means the client's offset is of a log that is gone:
    // say so, and hand it the log from its start.
    if (from !== undefined && !fromOrigin && (from.epoch !== epoch || from.seq > top)) {
      const fresh: ReadResult = epoch === '' ? {entries: [], truncated: true, next: after} : await this.read(topic, null, limit);
      return {...fresh, truncated: true};
    }
    const entries = raw.map(([id, fields]) => this.#entry(epoch, id, fields)).filter((e): e is LogEntry => e !== undefined);
    const truncated = from !== undefined && from.seq < top && (first === 0 || first > from.seq + 1);
    return {entries, truncated, next: entries.length > 0 ? entries[entries.length - 1]!.offset : after};
  }

  async position(topic: string): Promise<string> {
    const [epoch, top] = await this.#meta(topic);
    return epoch === null ? `${ORIGIN_EPOCH}:0` : `${epoch}:${top ?? '0'}`;
  }

  async head(topic: string): Promise<string | null> {
    const [epoch, top] = await this.#meta(topic);
    const head = epoch === null || top === null || top === '0' ? null : `${epoch}:${top}`;
    if (head !== null) this.#remember(topic);
    return head;
  }

  /** The topic's epoch and top sequence number from its meta hash (null where it has none). */
  #meta(topic: string): Promise<[string | null, string | null]> {
    return this.#redis.command<[string | null, string | null]>(['HMGET', this.#keys.meta(topic), 'e', 's']);
  }

  /**
   * Whether `topic` holds events: from memory for {@link KNOWN_MS} after an append to it or a
   * head read of it (a client publishing to a busy topic then costs one round trip, the append,
   * not two), else from Redis. A topic emptied within that time (trimmed by age) still answers
   * `true`, so a client re-creating it then is not charged for it against its topic budget.
   */
  async exists(topic: string): Promise<boolean> {
    const until = this.#known.get(topic);
    if (until !== undefined && until > Date.now()) return true;
    return (await this.head(topic)) !== null;
  }

  #remember(topic: string): void {
    if (this.#known.size >= MAX_KNOWN && !this.#known.has(topic)) this.#known.clear();
    this.#known.set(topic, Date.now() + KNOWN_MS);
  }

  isOffset(offset: string): boolean {
    return OFFSET.test(offset);
  }

  watch(watcher: LogWatcher): () => void {
    let active = true;
    const hear = (message: string, channel: string) => active && this.#tell(watcher, message, channel);
    const {topics} = watcher;
    if (topics === 'followed') this.#followers.add(watcher);
    else if (topics === undefined) {
      // Every topic: a pattern subscription, so this process hears all topic traffic.
      void this.#redis.listen(this.#keys.topicPattern, hear);
    } else {
      for (const topic of topics) {
        this.#redis.subscribe(this.#keys.topicChannel(topic), hear).catch((error: unknown) =>
          this.#logger.warn({err: error, topic}, 'topic not subscribed yet: subscribing when Redis is back'),
        );
      }
    }
    const stopResumed = this.#redis.onResumed(() => active && watcher.resumed?.());
    return () => {
      active = false;
      stopResumed();
      this.#followers.delete(watcher);
      if (Array.isArray(topics)) for (const topic of topics as readonly string[]) void this.#redis.unsubscribe(this.#keys.topicChannel(topic), hear);
    };
  }

  async follow(topic: string): Promise<() => void> {
    const channel = this.#keys.topicChannel(topic);
    let follow = this.#follows.get(topic);
    if (follow === undefined) {
      const subscribed = this.#redis.subscribe(channel, this.#heardFollowed);
      subscribed.catch(() => undefined);
      this.#follows.set(topic, (follow = {count: 0, subscribed}));
    }
    const mine = follow;
    mine.count++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (--mine.count > 0 || this.#follows.get(topic) !== mine) return;
      this.#follows.delete(topic);
      void this.#redis.unsubscribe(channel, this.#heardFollowed);
    };
    try {
      await mine.subscribed;
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  /** Topics followed now, with how many follows each (for tests and metrics). */
  get followed(): ReadonlyMap<string, number> {
    return new Map([...this.#follows].map(([topic, {count}]) => [topic, count]));
  }

  readonly #heardFollowed = (message: string, channel: string): void => {
    for (const watcher of this.#followers) this.#tell(watcher, message, channel);
  };

  /**
   * Hands an announcement to a watcher: one line per event appended by one script call, each
   * `<offset> <event JSON>`; the event is parsed only if the watcher reads it.
   */
  #tell(watcher: LogWatcher, message: string, channel: string): void {
    const topic = this.#keys.topicOf(channel);
    for (let start = 0; start < message.length; ) {
      let end = message.indexOf('\n', start);
      if (end < 0) end = message.length;
      const space = message.indexOf(' ', start);
      const line = start;
      start = end + 1;
      if (space < 0 || space > end) {
        this.#logger.warn({channel}, 'unreadable topic announcement');
        continue;
      }
      let event: Envelope | undefined;
      const json = message.slice(space + 1, end);
      try {
        watcher.appended({
          topic,
          offset: message.slice(line, space),
          json,
          get event() {
            return (event ??= JSON.parse(json) as Envelope);
          },
        });
      } catch (error) {
        this.#logger.warn({err: error, channel}, 'unreadable topic announcement');
      }
    }
  }

  #entry(epoch: string, id: string, fields: string[]): LogEntry | undefined {
    const at = fields.indexOf('d');
    if (at < 0 || at % 2 !== 0) return undefined;
    const json = fields[at + 1]!;
    let event: Envelope | undefined;
    // Parsed only if read: a replay to JSON clients forwards the stored text as it is.
    const entry = {
      offset: `${epoch}:${id.slice(0, id.indexOf('-'))}`,
      get event(): Envelope {
        return (event ??= JSON.parse(json) as Envelope);
      },
    };
    return Object.defineProperty(entry, 'json', {value: json, enumerable: false});
  }
}
