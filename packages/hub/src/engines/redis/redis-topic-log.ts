import {randomUUID} from 'node:crypto';
import type {Envelope} from '@switchboard/contracts';
import type {Logger} from 'pino';
import type {LogWatcher, TopicLog} from '../../log/async-topic-log.js';
import {positionOf} from '../../log/async-topic-log.js';
import type {AppendResult, LogEntry, ReadResult, Retention} from '../../log/topic-log.js';
import type {RedisKeys} from './keys.js';
import type {RedisConnection} from './redis-connection.js';
import {APPEND, READ} from './scripts.js';

/** Options of {@link RedisTopicLog}. */
export interface RedisTopicLogOptions extends Retention {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  /** Per-topic retention, overriding the defaults (10,000 events, no age limit). */
  readonly topics?: Readonly<Record<string, Retention>>;
  /** How long an envelope id is remembered for idempotent publish, in seconds; default 1 hour. */
  readonly dedupeTtlSeconds?: number;
}

/** `<epoch>:<seq>`: the epoch is 16 hex digits, made when the topic's meta hash is created. */
const OFFSET = /^[0-9a-f]{1,32}:(0|[1-9][0-9]{0,15})$/;

/**
 * Topic logs on Redis Streams, shared by every hub process on the same Redis (Centrifugo's design):
 * per topic a stream whose entry ids are the topic's sequence numbers, and a meta hash with the
 * epoch and the top sequence number. Append is one Lua script (dedupe, number, add, trim,
 * announce on the topic's channel). Offsets are `<epoch>:<seq>`; an offset of another epoch (the
 * stream was lost and begun anew) reads as truncated, so the page resyncs instead of trusting it.
 */
export class RedisTopicLog implements TopicLog {
  readonly #redis: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #logger: Logger;
  readonly #defaults: Required<Retention>;
  readonly #perTopic: Readonly<Record<string, Retention>>;
  readonly #dedupeTtl: number;

  constructor(options: RedisTopicLogOptions) {
    this.#redis = options.connection;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#defaults = {maxEvents: options.maxEvents ?? 10_000, maxAgeMs: options.maxAgeMs ?? 0};
    this.#perTopic = options.topics ?? {};
    this.#dedupeTtl = options.dedupeTtlSeconds ?? 3600;
  }

  async append(topic: string, event: Envelope): Promise<AppendResult> {
    const own = this.#perTopic[topic] ?? {};
    const maxAge = own.maxAgeMs ?? this.#defaults.maxAgeMs;
    const [offset, duplicate] = await this.#redis.script<[string, number]>(
      APPEND,
      [this.#keys.stream(topic), this.#keys.meta(topic), this.#keys.seen(topic, event.id)],
      [
        JSON.stringify(event),
        String(own.maxEvents ?? this.#defaults.maxEvents),
        String(Number.isFinite(maxAge) ? maxAge : 0),
        this.#keys.topicChannel(topic),
        randomUUID().replaceAll('-', '').slice(0, 16),
        String(this.#dedupeTtl),
        String(Date.now()),
      ],
    );
    return {offset, duplicate: duplicate === 1};
  }

  async read(topic: string, after: string | null, limit: number): Promise<ReadResult> {
    const from = after === null ? undefined : positionOf(after);
    const start = from === undefined ? '-' : `${from.seq + 1}`;
    const [epoch, top, first, raw] = await this.#redis.script<[string, number, number, Array<[string, string[]]>]>(
      READ,
      [this.#keys.stream(topic), this.#keys.meta(topic)],
      [start, String(Math.max(1, limit))],
    );
    // Another epoch (or a position past the top) means the client's offset is of a log that is gone:
    // say so, and hand it the log from its start.
    if (from !== undefined && (from.epoch !== epoch || from.seq > top)) {
      const fresh: ReadResult = epoch === '' ? {entries: [], truncated: true, next: after} : await this.read(topic, null, limit);
      return {...fresh, truncated: true};
    }
    const entries = raw.map(([id, fields]) => this.#entry(epoch, id, fields)).filter((e): e is LogEntry => e !== undefined);
    const truncated = from !== undefined && from.seq < top && (first === 0 || first > from.seq + 1);
    return {entries, truncated, next: entries.length > 0 ? entries[entries.length - 1]!.offset : after};
  }

  async head(topic: string): Promise<string | null> {
    const [epoch, top] = await this.#redis.command<[string | null, string | null]>(['HMGET', this.#keys.meta(topic), 'e', 's']);
    return epoch === null || top === null || top === '0' ? null : `${epoch}:${top}`;
  }

  isOffset(offset: string): boolean {
    return OFFSET.test(offset);
  }

  watch(watcher: LogWatcher): () => void {
    let active = true;
    void this.#redis.listen(this.#keys.topicPattern, (message, channel) => {
      if (!active) return;
      const space = message.indexOf(' ');
      // Every node hears every topic: parse the event only if a watcher looks at it (one with local subscribers).
      let event: Envelope | undefined;
      const logger = this.#logger;
      try {
        watcher.appended({
          topic: this.#keys.topicOf(channel),
          offset: message.slice(0, space),
          get event() {
            return (event ??= JSON.parse(message.slice(space + 1)) as Envelope);
          },
        });
      } catch (error) {
        logger.warn({err: error, channel}, 'unreadable topic announcement');
      }
    });
    const stopResumed = this.#redis.onResumed(() => active && watcher.resumed?.());
    return () => {
      active = false;
      stopResumed();
    };
  }

  #entry(epoch: string, id: string, fields: string[]): LogEntry | undefined {
    const at = fields.indexOf('d');
    if (at < 0 || at % 2 !== 0) return undefined;
    return {offset: `${epoch}:${id.slice(0, id.indexOf('-'))}`, event: JSON.parse(fields[at + 1]!) as Envelope};
  }
}
