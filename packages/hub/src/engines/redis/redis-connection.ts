import {createHash} from 'node:crypto';
import type {Logger} from 'pino';
import {createClient, type RedisClientType} from 'redis';
import {TopicLogUnavailableError} from '../../log/async-topic-log.js';

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  readonly logger: Logger;
  /** How long one command may take before it is refused as unavailable; default 5 s. */
  readonly commandTimeoutMs?: number;
  /** How long {@link RedisConnection.start} waits for Redis before giving up; default 10 s. */
  readonly startTimeoutMs?: number;
}

type Listener = (message: string, channel: string) => void;

/**
 * The two connections the engine keeps to Redis: one for commands, one for pub/sub (a subscribed
 * connection can run nothing else). Commands are never queued while Redis is unreachable: they
 * fail at once with {@link TopicLogUnavailableError}, so nothing is acknowledged and then lost.
 * Both reconnect by themselves; the subscriber re-subscribes its patterns, and `onResumed`
 * listeners hear that messages published meanwhile were missed.
 */
export class RedisConnection {
  readonly client: RedisClientType;
  readonly #subscriber: RedisClientType;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #url: string;
  readonly #patterns = new Map<string, Set<Listener>>();
  readonly #resumed = new Set<() => void>();
  readonly #sha = new Map<string, string>();
  #started: Promise<void> | undefined;
  #subscribedOnce = false;
  #lastErrorLog = 0;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger;
    this.#timeoutMs = options.commandTimeoutMs ?? 5000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#url = options.url;
    // Reconnect quickly at first, then every 1 s: a restarted Redis is noticed within about a second.
    const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);
    this.client = createClient({url: options.url, disableOfflineQueue: true, socket: {reconnectStrategy, connectTimeout: 2000}});
    this.#subscriber = createClient({url: options.url, socket: {reconnectStrategy, connectTimeout: 2000}});
    for (const [name, c] of [['commands', this.client], ['pubsub', this.#subscriber]] as const) {
      c.on('error', (error: Error) => this.#warn(name, error));
    }
    this.#subscriber.on('ready', () => {
      // The first ready is the start; any later one follows an outage.
      if (!this.#subscribedOnce) return;
      this.#logger.info('redis pub/sub reconnected');
      for (const resumed of this.#resumed) resumed();
    });
  }

  /**
   * Connects both clients and subscribes the patterns asked for so far; idempotent. Rejects (and
   * closes) when Redis does not answer within the start timeout, so a wrong URL fails at start.
   */
  start(): Promise<void> {
    return (this.#started ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis at ${this.#url} did not answer within ${this.#startTimeoutMs} ms`)), this.#startTimeoutMs);
      });
      try {
        await Promise.race([
          (async () => {
            await Promise.all([this.client.connect(), this.#subscriber.connect()]);
            for (const pattern of this.#patterns.keys()) await this.#pSubscribe(pattern);
          })(),
          timeout,
        ]);
      } catch (error) {
        await this.close();
        throw error;
      } finally {
        clearTimeout(timer);
      }
      this.#subscribedOnce = true;
    })());
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    for (const c of [this.client, this.#subscriber]) if (c.isOpen) c.destroy();
  }

  /** Calls `listener` with every message on channels matching `pattern`. */
  async listen(pattern: string, listener: Listener): Promise<void> {
    let listeners = this.#patterns.get(pattern);
    if (listeners === undefined) {
      this.#patterns.set(pattern, (listeners = new Set()));
      if (this.#subscriber.isReady) await this.#pSubscribe(pattern);
    }
    listeners.add(listener);
  }

  /** Calls `listener` each time the subscriber is back after an outage. */
  onResumed(listener: () => void): () => void {
    this.#resumed.add(listener);
    return () => this.#resumed.delete(listener);
  }

  /** Runs a command; refuses with {@link TopicLogUnavailableError} when Redis cannot be reached. */
  async command<T>(args: readonly string[]): Promise<T> {
    if (!this.client.isReady) throw new TopicLogUnavailableError('Redis is unreachable');
    try {
      return await this.client.sendCommand<T>(args, {timeout: this.#timeoutMs});
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Runs a Lua script by its SHA, loading it on first use or after Redis lost it. */
  async script<T>(source: string, keys: readonly string[], args: readonly string[]): Promise<T> {
    let sha = this.#sha.get(source);
    if (sha === undefined) this.#sha.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    try {
      return await this.command<T>(['EVALSHA', sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.command<T>(['EVAL', source, String(keys.length), ...keys, ...args]);
    }
  }

  /** Publishes on a channel; refuses when Redis cannot be reached. */
  publish(channel: string, message: string): Promise<number> {
    return this.command<number>(['PUBLISH', channel, message]);
  }

  #pSubscribe(pattern: string): Promise<void> {
    return this.#subscriber.pSubscribe(pattern, (message, channel) => {
      for (const listener of this.#patterns.get(pattern) ?? []) listener(message, channel);
    });
  }

  /** Connection failures become {@link TopicLogUnavailableError}; Redis's own replies (script errors, NOSCRIPT) pass through. */
  #unavailable(error: unknown): Error {
    if (error instanceof Error && error.constructor.name.endsWith('ErrorReply')) return error;
    if (error instanceof Error && /^(NOSCRIPT|ERR|WRONGTYPE)/.test(error.message)) return error;
    return new TopicLogUnavailableError(`Redis is unreachable: ${error instanceof Error ? error.message : String(error)}`);
  }

  #warn(name: string, error: Error): void {
    // A down Redis makes the client report every reconnect attempt: log at most one a second.
    const now = Date.now();
    if (now - this.#lastErrorLog < 1000) return;
    this.#lastErrorLog = now;
    this.#logger.warn({err: error, connection: name}, 'redis connection error');
  }
}
