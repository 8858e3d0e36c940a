import {pino, type Logger} from 'pino';
import type {Retention} from '../../log/topic-log.js';
import type {Engine} from '../engine.js';
import {RedisKeys} from './keys.js';
import {RedisBackplane, type OutboxOptions} from './redis-backplane.js';
import {RedisConnection} from './redis-connection.js';
import {RedisTopicLog} from './redis-topic-log.js';

/** Options of {@link redisEngine}. */
export interface RedisEngineOptions extends Retention {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Prefix of every key and channel, so several Switchboards can share one Redis; default `sb`. */
  readonly prefix?: string;
  /** Per-topic retention (default 10,000 events, 1 hour; `maxAgeMs: 0` keeps events regardless of age). */
  readonly topics?: Readonly<Record<string, Retention>>;
  /** How long an envelope id is remembered for idempotent publish, in seconds; default 1 hour. */
  readonly dedupeTtlSeconds?: number;
  /**
   * How long one Redis command (an append, a hub send) may take before it is refused (HTTP 503, an
   * invocation error); default 1.5 s. An append also tells Redis a deadline within that time, past
   * which it stores nothing, so a publish refused to its client is never stored later.
   */
  readonly commandTimeoutMs?: number;
  /** How long reading a page of a topic (a replay, `GET …/events`) may take; default 5 s. */
  readonly readTimeoutMs?: number;
  /** How long `listen()` waits for Redis before failing; default 10 s. */
  readonly startTimeoutMs?: number;
  /**
   * Hub sends (all, groups, users, connections) made while Redis is unreachable wait here and are
   * published in order when it is back; default at most 10,000 sends or 16 MB, past which sends
   * are refused (logged, and counted in `switchboard_backplane_refused_total`).
   */
  readonly outbox?: OutboxOptions;
}

/** The Redis engine: topic logs on Redis Streams and the hub backplane on Redis pub/sub. */
export interface RedisEngine extends Engine {
  readonly log: RedisTopicLog;
  readonly backplane: RedisBackplane;
  /** The engine's connections, for other parts of an application sharing them (the shop). */
  readonly connection: RedisConnection;
  /** The engine's key and channel names. */
  readonly keys: RedisKeys;
}

/**
 * Runs a server's topics and hub on Redis, so several hub processes share topics and connections.
 *
 * ```ts
 * const server = new SwitchboardServer({registry, engine: redisEngine({url: 'redis://127.0.0.1:6379'})});
 * await server.listen(8080); // connects to Redis first
 * ```
 */
export function redisEngine(options: RedisEngineOptions): RedisEngine {
  const keys = new RedisKeys(options.prefix);
  let logger: Logger = pino({level: 'silent'});
  // Parts log through this indirection, so the server's logger (known at start) is the one used.
  const log = new Proxy({} as Logger, {
    get: (_, p) => {
      const value = (logger as unknown as Record<PropertyKey, unknown>)[p];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(logger) : value;
    },
  });
  const connection = new RedisConnection({
    url: options.url,
    logger: log,
    ...(options.commandTimeoutMs === undefined ? {} : {commandTimeoutMs: options.commandTimeoutMs}),
    ...(options.readTimeoutMs === undefined ? {} : {readTimeoutMs: options.readTimeoutMs}),
    ...(options.startTimeoutMs === undefined ? {} : {startTimeoutMs: options.startTimeoutMs}),
  });
  const topicLog = new RedisTopicLog({
    connection,
    keys,
    logger: log,
    ...(options.maxEvents === undefined ? {} : {maxEvents: options.maxEvents}),
    ...(options.maxAgeMs === undefined ? {} : {maxAgeMs: options.maxAgeMs}),
    ...(options.topics === undefined ? {} : {topics: options.topics}),
    ...(options.dedupeTtlSeconds === undefined ? {} : {dedupeTtlSeconds: options.dedupeTtlSeconds}),
  });
  const backplane = new RedisBackplane({connection, keys, logger: log, ...(options.outbox === undefined ? {} : {outbox: options.outbox})});
  return {
    log: topicLog,
    backplane,
    connection,
    keys,
    async start(serverLogger) {
      logger = serverLogger.child({component: 'redis'});
      await connection.start();
      await backplane.started();
    },
    health: () => ({kind: 'redis', ...connection.health()}),
    async close() {
      await backplane.close();
      await connection.close();
    },
  };
}
