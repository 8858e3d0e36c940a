import {createHash} from 'node:crypto';
import type {Logger} from 'pino';
import {createClient, type RedisClientType} from 'redis';
import {TopicLogUnavailableError} from '../../log/async-topic-log.js';
import {DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, TimedCommands, type CommandOptions} from './timed-commands.js';

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  readonly logger: Logger;
  /**
   * How long a command (an append, a hub send, a lease) may take before it is refused as
   * unavailable; default {@link DEFAULT_COMMAND_TIMEOUT_MS}. A timeout also marks Redis as stalled:
   * later commands are refused at once until it answers a PING.
   */
  readonly commandTimeoutMs?: number;
  /** How long reading a page of a topic may take; default {@link DEFAULT_READ_TIMEOUT_MS}. */
  readonly readTimeoutMs?: number;
  /** How long {@link RedisConnection.start} waits for Redis before giving up; default 10 s. */
  readonly startTimeoutMs?: number;
}

/** What `GET /healthz` shows of the Redis connections. */
export interface RedisHealth {
  readonly ok: boolean;
  readonly commands: 'ready' | 'stalled' | 'disconnected';
  readonly pubsub: 'ready' | 'disconnected';
  /** Since when Redis has not answered (ms since the epoch), while stalled. */
  readonly stalledSince?: number;
  readonly error?: string;
}

/** Hears a message published on a channel (or on one matching a pattern). */
export type Listener = (message: string, channel: string) => void;

/**
 * The two connections the engine keeps to Redis: one for commands, one for pub/sub (a subscribed
 * connection can run nothing else). Commands are never queued while Redis is unreachable: they
 * fail at once with {@link TopicLogUnavailableError}, so nothing is acknowledged and then lost.
 * Both reconnect by themselves; the subscriber re-subscribes every channel and pattern it was
 * asked for (also those asked for while Redis was down), then `onResumed` listeners hear that
 * messages published meanwhile were missed, and `onReady` listeners that commands work again.
 *
 * Every command has a timeout; a Redis that is connected but does not answer is a stall, during
 * which commands are refused at once ({@link TimedCommands}); `onReady` listeners hear its end too.
 */
export class RedisConnection {
  readonly client: RedisClientType;
  readonly #subscriber: RedisClientType;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #readTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #url: string;
  readonly #patterns = new Map<string, Set<Listener>>();
  readonly #channels = new Map<string, Set<Listener>>();
  /** Each channel's SUBSCRIBE (pending or confirmed) while it stands; node-redis renews confirmed ones after a reconnect. */
  readonly #subscribed = new Map<string, Promise<void>>();
  readonly #resumed = new Set<() => void>();
  readonly #ready = new Set<() => void>();
  #received = 0;
  readonly #sha = new Map<string, string>();
  #started: Promise<void> | undefined;
  #subscribedOnce = false;
  #lastErrorLog = 0;
  readonly #commands: TimedCommands;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#url = options.url;
    // Reconnect quickly at first, then every 1 s: a restarted Redis is noticed within about a second.
    const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);
    this.client = createClient({url: options.url, disableOfflineQueue: true, socket: {reconnectStrategy, connectTimeout: 2000}});
    this.#subscriber = createClient({url: options.url, socket: {reconnectStrategy, connectTimeout: 2000}});
    this.#commands = new TimedCommands(this.client, this.#logger, () => {
      for (const ready of this.#ready) ready();
    });
    for (const [name, c] of [['commands', this.client], ['pubsub', this.#subscriber]] as const) {
      c.on('error', (error: Error) => this.#warn(name, error));
    }
    this.#subscriber.on('ready', () => {
      // The first ready is the start; any later one follows an outage.
      if (!this.#subscribedOnce) return;
      this.#logger.info('redis pub/sub reconnected');
      void this.#resubscribe().then(() => {
        for (const resumed of this.#resumed) resumed();
      });
    });
    this.client.on('ready', () => {
      if (!this.#subscribedOnce) return;
      void this.#commands.syncClock(this.#timeoutMs);
      // A stall ends with its PING's answer, on this fresh socket too.
      if (this.#commands.stalled === undefined) for (const ready of this.#ready) ready();
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
            await this.#commands.syncClock(this.#timeoutMs);
            for (const pattern of this.#patterns.keys()) await this.#pSubscribe(pattern);
            if (this.#channels.size > 0) await this.#subscribeAll([...this.#channels.keys()]);
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
    this.#commands.close();
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

  /**
   * Calls `listener` with every message on `channel`, subscribing to it if no listener had: resolves
   * once Redis confirmed the subscription, so nothing published after that is missed. While Redis
   * is unreachable it rejects with {@link TopicLogUnavailableError}, but the listener stays: the
   * channel is subscribed when Redis is back (call {@link unsubscribe} to give up on it).
   */
  async subscribe(channel: string, listener: Listener): Promise<void> {
    let listeners = this.#channels.get(channel);
    if (listeners === undefined) this.#channels.set(channel, (listeners = new Set()));
    listeners.add(listener);
    // Before start, start() subscribes it; during start, wait for it to finish, then make sure.
    if (this.#started === undefined) return;
    if (!this.#subscribedOnce) await this.#started;
    let subscribed = this.#subscribed.get(channel);
    if (subscribed === undefined) {
      if (!this.#subscriber.isReady) throw new TopicLogUnavailableError('Redis is unreachable');
      subscribed = this.#subscribeAll([channel]);
    }
    // A stalled Redis confirms nothing: refuse in time; the SUBSCRIBE stays and completes when it wakes.
    await within(subscribed, this.#timeoutMs, () => new TopicLogUnavailableError(`Redis did not confirm a subscription within ${this.#timeoutMs} ms`));
  }

  /** Stops calling `listener` for `channel`; unsubscribes from it when it was the last one. */
  async unsubscribe(channel: string, listener: Listener): Promise<void> {
    const listeners = this.#channels.get(channel);
    if (listeners === undefined || !listeners.delete(listener) || listeners.size > 0) return;
    this.#channels.delete(channel);
    this.#subscribed.delete(channel);
    if (!this.#subscriber.isOpen) return;
    try {
      await this.#subscriber.unsubscribe(channel, this.#dispatch);
    } catch (error) {
      // Not subscribed any more either way once the connection is back: resubscribe skips it.
      this.#logger.debug({err: error, channel}, 'unsubscribe not confirmed');
    }
  }

  /** The channels subscribed now (or to be, once Redis is back). */
  get channels(): ReadonlySet<string> {
    return new Set(this.#channels.keys());
  }

  /** Messages received on the pub/sub connection so far (channel and pattern subscriptions), for tests and metrics. */
  get received(): number {
    return this.#received;
  }

  /** Calls `listener` each time the command connection is ready again after an outage. */
  onReady(listener: () => void): () => void {
    this.#ready.add(listener);
    return () => this.#ready.delete(listener);
  }

  /** Whether commands can run now: connected, and not stalled. */
  get isReady(): boolean {
    return this.client.isReady && this.#commands.stalled === undefined;
  }

  /** The command timeout, and the longer one for reading a page of a topic. */
  get timeouts(): {readonly command: number; readonly read: number} {
    return {command: this.#timeoutMs, read: this.#readTimeoutMs};
  }

  /** The connections' state, for `GET /healthz`: not ok while commands cannot run or pub/sub is down. */
  health(): RedisHealth {
    const stalled = this.#commands.stalled;
    const commands = !this.client.isReady ? 'disconnected' : stalled === undefined ? 'ready' : 'stalled';
    const pubsub = this.#subscriber.isReady ? 'ready' : 'disconnected';
    return {
      ok: commands === 'ready' && pubsub === 'ready',
      commands,
      pubsub,
      ...(stalled === undefined ? {} : {stalledSince: stalled.since, error: stalled.reason}),
    };
  }

  /** See {@link TimedCommands.writeDeadline}: when a write sent now must no longer run, on Redis's clock. */
  writeDeadline(timeoutMs = this.#timeoutMs): number {
    return this.#commands.writeDeadline(timeoutMs);
  }

  /** Calls `listener` each time the subscriber is back after an outage. */
  onResumed(listener: () => void): () => void {
    this.#resumed.add(listener);
    return () => this.#resumed.delete(listener);
  }

  /**
   * Runs a command; refuses with {@link TopicLogUnavailableError} when Redis cannot be reached, is
   * stalled, or does not answer within the timeout.
   */
  async command<T>(args: readonly string[], options: CommandOptions = {}): Promise<T> {
    if (!this.client.isReady) throw new TopicLogUnavailableError('Redis is unreachable');
    try {
      return await this.#commands.send<T>(args, options.timeoutMs ?? this.#timeoutMs);
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Runs a Lua script by its SHA, loading it on first use or after Redis lost it; both tries share the timeout. */
  async script<T>(source: string, keys: readonly string[], args: readonly string[], options: CommandOptions = {}): Promise<T> {
    let sha = this.#sha.get(source);
    if (sha === undefined) this.#sha.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    const until = Date.now() + (options.timeoutMs ?? this.#timeoutMs);
    try {
      return await this.command<T>(['EVALSHA', sha, String(keys.length), ...keys, ...args], options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.command<T>(['EVAL', source, String(keys.length), ...keys, ...args], {timeoutMs: Math.max(1, until - Date.now())});
    }
  }

  /** Publishes on a channel; refuses when Redis cannot be reached. */
  publish(channel: string, message: string): Promise<number> {
    return this.command<number>(['PUBLISH', channel, message]);
  }

  #pSubscribe(pattern: string): Promise<void> {
    return this.#subscriber.pSubscribe(pattern, (message, channel) => {
      this.#received++;
      for (const listener of this.#patterns.get(pattern) ?? []) listener(message, channel);
    });
  }

  /** The one node-redis listener of every channel: hands each message to the channel's listeners. */
  readonly #dispatch = (message: string, channel: string): void => {
    this.#received++;
    const listeners = this.#channels.get(channel);
    if (listeners === undefined) return;
    for (const listener of listeners) listener(message, channel);
  };

  /**
   * node-redis re-subscribes what it had confirmed before the 'ready' after a reconnect; this adds
   * the channels asked for while Redis was down, or whose SUBSCRIBE the outage cut short.
   */
  async #resubscribe(): Promise<void> {
    const channels = [...this.#channels.keys()].filter((channel) => !this.#subscribed.has(channel));
    if (channels.length === 0) return;
    try {
      await this.#subscribeAll(channels);
    } catch (error) {
      this.#logger.warn({err: error}, 'could not re-subscribe after reconnecting; retrying at the next reconnect');
    }
  }

  /** SUBSCRIBEs `channels` at once, remembering the promise per channel until it fails or the channel is given up. */
  #subscribeAll(channels: readonly string[]): Promise<void> {
    const subscribed = this.#subscriber.subscribe([...channels], this.#dispatch).catch((error: unknown) => {
      for (const channel of channels) if (this.#subscribed.get(channel) === subscribed) this.#subscribed.delete(channel);
      throw this.#unavailable(error);
    });
    for (const channel of channels) this.#subscribed.set(channel, subscribed);
    return subscribed;
  }

  /**
   * Connection failures, and replies that mean "not now" (`LOADING` while a restarted Redis reads its
   * AOF, `BUSY` while a script runs long, `MASTERDOWN`, `TRYAGAIN`), become
   * {@link TopicLogUnavailableError}; Redis's other replies (script errors, NOSCRIPT) pass through.
   */
  #unavailable(error: unknown): Error {
    if (error instanceof TopicLogUnavailableError) return error;
    if (error instanceof Error && error.message.startsWith('SBLATE')) {
      return new TopicLogUnavailableError(`Redis ran the write after its deadline, so it stored nothing: ${error.message.slice('SBLATE '.length)}`);
    }
    if (error instanceof Error && /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/.test(error.message)) {
      return new TopicLogUnavailableError(`Redis cannot answer now: ${error.message}`);
    }
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

/** `promise`, or the error `refusal` makes once `ms` pass first. */
function within<T>(promise: Promise<T>, ms: number, refusal: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(refusal()), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
