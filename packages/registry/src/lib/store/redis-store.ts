import {createClient} from 'redis';
import {EMPTY_STATE, type Change, type RegistryState} from '../records.js';
import type {CommitResult, RegistryStore} from './store.js';

/** Compare-and-set in one script: the revision, the state and the history move together or not at all. */
const COMMIT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return current end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
return -1
`;

/** Options of {@link RedisRegistryStore}. */
export interface RedisRegistryStoreOptions {
  readonly url: string;
  /** Key prefix; default `switchboard:registry`. */
  readonly prefix?: string;
  /** How long a command may take before the request fails; default 5 s. */
  readonly commandTimeoutMs?: number;
}

/**
 * The registry on Redis (`REDIS_URL`): every node reads the same state, so every node serves the
 * same composition. A commit is one Lua script (compare-and-set on the revision), so two nodes
 * deploying at once cannot both win.
 */
export class RedisRegistryStore implements RegistryStore {
  readonly #client;
  readonly #keys: {revision: string; state: string; history: string};
  readonly #timeoutMs: number;
  #opened: Promise<void> | undefined;

  constructor(options: RedisRegistryStoreOptions) {
    const prefix = options.prefix ?? 'switchboard:registry';
    this.#keys = {revision: `${prefix}:revision`, state: `${prefix}:state`, history: `${prefix}:history`};
    this.#timeoutMs = options.commandTimeoutMs ?? 5000;
    this.#client = createClient({url: options.url, disableOfflineQueue: true, socket: {connectTimeout: 2000, reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 1000)}});
    // Errors surface on the commands that fail; the client reconnects by itself.
    this.#client.on('error', () => {});
  }

  /** Connects; a failed attempt is forgotten, so the next command tries again. */
  open(): Promise<void> {
    return (this.#opened ??= this.#client.connect().then(
      () => undefined,
      (error: unknown) => {
        this.#opened = undefined;
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
    const result = await this.#send<number>(['EVAL', COMMIT, '3', revision, stateKey, history, String(expected), String(state.revision), JSON.stringify(state), JSON.stringify(change)]);
    return result === -1 ? {ok: true} : {ok: false, current: result};
  }

  async history(limit?: number): Promise<Change[]> {
    const items = await this.#send<string[]>(['LRANGE', this.#keys.history, limit === undefined ? '0' : String(-limit), '-1']);
    return items.map((i) => JSON.parse(i) as Change);
  }

  async close(): Promise<void> {
    if (this.#opened === undefined) return;
    await this.#opened.catch(() => {});
    if (this.#client.isOpen) this.#client.destroy();
  }

  async #send<T>(args: string[]): Promise<T> {
    await this.open();
    return await this.#client.sendCommand<T>(args, {timeout: this.#timeoutMs});
  }
}
