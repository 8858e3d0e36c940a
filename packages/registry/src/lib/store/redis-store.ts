import {createLogger, RedisConnection, refuseLate, type RedisConnectionOptions} from '@switchboard/hub';
import {EMPTY_STATE, type Change, type RegistryState} from '../records.js';
import type {CommitResult, RegistryStore} from './store.js';

/**
 * Compare-and-set in one script: the revision, the state and the history move together or not at
 * all. It first reads Redis's clock and refuses past ARGV[5], the deadline its caller set (see
 * `RedisConnection.writeDeadline`): a Redis that was paused runs the commits sent to it meanwhile
 * when it wakes, and those callers were already told that the deploy failed.
 */
const COMMIT = `
local deadline = tonumber(ARGV[5])
${refuseLate('deadline', 'the commit')}
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return current end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
return -1
`;

/** Options of {@link RedisRegistryStore}: a `url`, or the `connection` of the server's Redis engine to share. */
export interface RedisRegistryStoreOptions {
  /** `redis://host:port[/db]`: the store opens its own connection. */
  readonly url?: string;
  /**
   * A connection to share (the hub's, `redisEngine(...).connection`), with its command timeout and
   * its stall state: the store does not open or close it.
   */
  readonly connection?: RedisConnection;
  /** Key prefix; default `switchboard:registry`. */
  readonly prefix?: string;
  /**
   * With `url`: how long a command may take before the request fails (503); default 1.5 s, as
   * the hub's. A Redis that does not answer in time is marked stalled and refused at once until it
   * answers a PING.
   */
  readonly commandTimeoutMs?: number;
  /** With `url`: where the connection's warnings go (a stall, a reconnect); default: nowhere. */
  readonly logger?: RedisConnectionOptions['logger'];
}

/**
 * The registry on Redis (`REDIS_URL`): every node reads the same state, so every node serves the
 * same composition. A commit is one Lua script (compare-and-set on the revision), so two nodes
 * deploying at once cannot both win. Commands run on the hub's {@link RedisConnection}: each has a
 * timeout measured by the hub (a paused Redis refuses a deploy in 1.5 s, never holds it), and a
 * commit Redis runs after its caller gave up changes nothing.
 */
export class RedisRegistryStore implements RegistryStore {
  #redis: RedisConnection;
  /** Makes the store's own connection (a failed start closes one for good); undefined when shared. */
  readonly #connect: (() => RedisConnection) | undefined;
  readonly #keys: {revision: string; state: string; history: string};
  #opened: Promise<void> | undefined;

  constructor(options: RedisRegistryStoreOptions) {
    const prefix = options.prefix ?? 'switchboard:registry';
    this.#keys = {revision: `${prefix}:revision`, state: `${prefix}:state`, history: `${prefix}:history`};
    const {url, connection, commandTimeoutMs, logger} = options;
    if (connection !== undefined) {
      this.#redis = connection;
      this.#connect = undefined;
    } else if (url !== undefined) {
      this.#connect = () =>
        new RedisConnection({
          url,
          logger: logger ?? createLogger({level: 'silent'}),
          startTimeoutMs: 2000,
          ...(commandTimeoutMs === undefined ? {} : {commandTimeoutMs}),
        });
      this.#redis = this.#connect();
    } else {
      throw new TypeError('RedisRegistryStore needs a url or a connection');
    }
  }

  /** Connects (an own connection); a failed attempt is forgotten, so the next command tries again. */
  open(): Promise<void> {
    const connect = this.#connect;
    if (connect === undefined) return Promise.resolve();
    return (this.#opened ??= this.#redis.start().then(
      () => undefined,
      (error: unknown) => {
        this.#opened = undefined;
        this.#redis = connect();
        throw error;
      },
    ));
  }

  async read(): Promise<RegistryState> {
    const text = await this.#send<string | null>(['GET', this.#keys.state]);
    return text === null ? EMPTY_STATE : (JSON.parse(text) as RegistryState);
  }

  async commit(expected: number, state: RegistryState, change: Change): Promise<CommitResult> {
    const {revision, state: stateKey, history} = this.#keys;
    await this.open();
    const deadline = this.#redis.writeDeadline();
    const result = await this.#redis.script<number>(COMMIT, [revision, stateKey, history], [String(expected), String(state.revision), JSON.stringify(state), JSON.stringify(change), String(deadline)]);
    return result === -1 ? {ok: true} : {ok: false, current: result};
  }

  async history(limit?: number): Promise<Change[]> {
    const items = await this.#send<string[]>(['LRANGE', this.#keys.history, limit === undefined ? '0' : String(-limit), '-1']);
    return items.map((i) => JSON.parse(i) as Change);
  }

  async close(): Promise<void> {
    if (this.#connect === undefined || this.#opened === undefined) return;
    await this.#opened.catch(() => {});
    await this.#redis.close();
  }

  async #send<T>(args: string[]): Promise<T> {
    await this.open();
    return await this.#redis.command<T>(args);
  }
}
