import {setMaxListeners} from 'node:events';
import type {Logger} from 'pino';
import {AbortError, TimeoutError, type RedisClientType} from 'redis';
import {TopicLogUnavailableError} from '../../log/async-topic-log.js';

/**
 * Default of `commandTimeoutMs` (`redisEngine`, `RedisConnection`): 1.5 s. Redis answers an append
 * in well under a millisecond; one that has not answered in 1.5 s is paused, swapping or blocked,
 * and a publisher is better told so (HTTP 503, an invocation error) than kept waiting.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1500;
/** Default of `readTimeoutMs`: 5 s. A read changes nothing when it runs late, and a page of large events takes longer than an append. */
export const DEFAULT_READ_TIMEOUT_MS = 5000;

/** How many commands at most share one abort signal (see `#unwrittenBy`). */
const SHARED_BY = 64;

/** Per-command settings of `RedisConnection.command` and `RedisConnection.script`. */
export interface CommandOptions {
  /** How long to wait for the reply; the connection's command timeout by default. */
  readonly timeoutMs?: number;
}

/** Why and since when (ms since the epoch) Redis has not answered. */
export interface Stall {
  readonly since: number;
  readonly reason: string;
}

/**
 * Runs commands on one node-redis client, each with a timeout, and tells a stall: a Redis that is
 * connected but does not answer (SIGSTOP, swapping, a long script). node-redis stops timing a
 * command once it is written to the socket, which a paused Redis still accepts, so the timeout is
 * measured here. The first command past it marks Redis as stalled: commands are refused at once
 * while {@link stalled} is set, so nothing more piles up behind the unanswered ones, and one PING
 * waits for Redis: once it is answered, everything sent before it has been answered too, and
 * `onAnswering` is called.
 *
 * A command that timed out may still run when Redis wakes up. Writes that must not carry a
 * deadline on Redis's clock ({@link writeDeadline}) and refuse to run past it (the append script).
 */
export class TimedCommands {
  readonly #client: RedisClientType;
  readonly #logger: Logger;
  readonly #onAnswering: () => void;
  #stalled: Stall | undefined;
  #closed = false;
  /** Redis's clock minus ours (ms), and how far off that estimate may be. */
  #clock = {offset: 0, error: 0};
  /** Per timeout: the abort signal the commands sent lately share (see #unwrittenBy). */
  readonly #windows = new Map<number, {controller: AbortController; opened: number; count: number}>();

  constructor(client: RedisClientType, logger: Logger, onAnswering: () => void) {
    this.#client = client;
    this.#logger = logger;
    this.#onAnswering = onAnswering;
  }

  /** Set while Redis is stalled (commands are refused at once). */
  get stalled(): Stall | undefined {
    return this.#stalled;
  }

  /**
   * Sends a command and waits at most `timeoutMs` for its answer; rejects with
   * {@link TopicLogUnavailableError} at once while stalled, and (marking a stall) past the timeout. node-redis drops a command still
   * waiting to be written at that time, so it never runs. When the timer fires, the verdict waits
   * for `setImmediate`: an answer already in the socket (the event loop was busy) is read in that
   * same turn, before it, so only a missing answer fails.
   */
  send<T>(args: readonly string[], timeoutMs: number): Promise<T> {
    const stalled = this.#stalled;
    if (stalled !== undefined) return Promise.reject(new TopicLogUnavailableError(`Redis is not answering (${stalled.reason}, ${Date.now() - stalled.since} ms ago)`));
    const sent = this.#client.sendCommand<T>([...args], {abortSignal: this.#unwrittenBy(timeoutMs)});
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string): void => {
        this.#stall(reason);
        reject(new TopicLogUnavailableError(reason));
      };
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            settled = true;
            fail(`Redis did not answer within ${timeoutMs} ms`);
          }),
        timeoutMs,
      );
      sent.then(
        (reply) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(reply);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // Never written: the socket did not drain (Redis stopped reading), a stall too.
          if (error instanceof AbortError || error instanceof TimeoutError) fail(`Redis did not take a command within ${timeoutMs} ms`);
          else reject(error);
        },
      );
    });
  }

  /**
   * The time on Redis's clock (ms since the epoch) after which a write sent now, whose caller gives
   * up after `timeoutMs`, must not run. It is a fifth of the timeout (at least 50 ms) before the
   * caller gives up, less the uncertainty of the clocks' offset (measured with `TIME` at each
   * connect), so a write Redis runs in time has its answer back before the caller is told it
   * failed, and one Redis runs later stores nothing. (Were an answer held up past that margin, the
   * caller would be told of a failure for a write that was stored: the envelope id then makes the
   * retry find it instead of storing it twice.)
   */
  writeDeadline(timeoutMs: number): number {
    const margin = Math.max(50, timeoutMs / 5) + this.#clock.error;
    return Math.floor(Date.now() + this.#clock.offset + timeoutMs - margin);
  }

  /** Measures the offset of Redis's clock from ours, for {@link writeDeadline}; keeps the last estimate on failure. */
  async syncClock(timeoutMs: number): Promise<void> {
    try {
      const before = Date.now();
      const [seconds, micros] = await this.send<[string, string]>(['TIME'], timeoutMs);
      const after = Date.now();
      const server = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      this.#clock = {offset: server - (before + after) / 2, error: Math.ceil((after - before) / 2) + 1};
    } catch (error) {
      this.#logger.debug({err: error}, 'could not read the Redis clock');
    }
  }

  /**
   * The signal that drops a command node-redis has not written yet once `timeoutMs` has passed, so
   * a command refused to its caller never runs later. Commands sent within 20 ms of each other (at
   * most 64) share one signal and one timer, which fires up to 20 ms before a command's own
   * timeout: node-redis's own `timeout` option made an `AbortSignal.timeout` per command, whose
   * timer fired later for every command already answered and built a `DOMException` each time,
   * about a tenth of a busy publishing node's CPU.
   */
  #unwrittenBy(timeoutMs: number): AbortSignal {
    const now = Date.now();
    let window = this.#windows.get(timeoutMs);
    if (window === undefined || window.count >= SHARED_BY || now - window.opened >= 20) {
      const controller = new AbortController();
      // node-redis adds a listener per command: up to SHARED_BY, not a leak (Node warns past 10).
      setMaxListeners(SHARED_BY, controller.signal);
      setTimeout(() => controller.abort(), timeoutMs).unref();
      this.#windows.set(timeoutMs, (window = {controller, opened: now, count: 0}));
    }
    window.count++;
    return window.controller.signal;
  }

  /** Stops waiting for a stalled Redis. */
  close(): void {
    this.#closed = true;
  }

  #stall(reason: string): void {
    if (this.#stalled !== undefined || this.#closed) return;
    this.#stalled = {since: Date.now(), reason};
    this.#logger.warn({reason}, 'Redis is not answering: commands are refused until it answers a PING');
    void this.#probe();
  }

  async #probe(): Promise<void> {
    while (this.#stalled !== undefined && !this.#closed) {
      if (this.#client.isReady) {
        try {
          // No timeout: it is answered after everything sent before it, so then the backlog is gone.
          await this.#client.sendCommand(['PING']);
          const {since} = this.#stalled;
          this.#stalled = undefined;
          this.#logger.info({stalledMs: Date.now() - since}, 'Redis is answering again');
          this.#onAnswering();
          return;
        } catch {
          // The connection dropped: ask again once it is back.
        }
      }
      await new Promise((r) => setTimeout(r, 100).unref());
    }
  }
}
