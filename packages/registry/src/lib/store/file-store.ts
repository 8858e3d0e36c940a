import {mkdir, open, readFile, rename, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {EMPTY_STATE, type Change, type RegistryState} from '../records.js';
import type {CommitResult, RegistryStore} from './store.js';

/** The file {@link FileRegistryStore} keeps in its directory. */
export const REGISTRY_FILE = 'registry.json';

interface FileBody {
  readonly state: RegistryState;
  readonly history: Change[];
}

/**
 * The registry in one JSON file in a data directory (`registry.json`), for one server process.
 * Every commit writes a temporary file, flushes it, and renames it over the old one: a crash leaves
 * the old file or the new one, never half of either. Commits run one at a time.
 * Several processes must not share a directory: use {@link RedisRegistryStore} for several nodes.
 */
export class FileRegistryStore implements RegistryStore {
  readonly #dir: string;
  readonly #path: string;
  #body: FileBody = {state: EMPTY_STATE, history: []};
  #opened: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string) {
    this.#dir = dir;
    this.#path = join(dir, REGISTRY_FILE);
  }

  open(): Promise<void> {
    return (this.#opened ??= (async () => {
      await mkdir(this.#dir, {recursive: true});
      let text: string;
      try {
        text = await readFile(this.#path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      try {
        const body = JSON.parse(text) as FileBody;
        if (typeof body.state?.revision !== 'number' || !Array.isArray(body.history)) throw new Error('no state or history');
        this.#body = body;
      } catch (error) {
        throw new Error(`the deploy registry's file ${this.#path} is not readable (${(error as Error).message}); move it away to start empty`);
      }
    })());
  }

  async read(): Promise<RegistryState> {
    await this.open();
    return this.#body.state;
  }

  commit(expected: number, state: RegistryState, change: Change): Promise<CommitResult> {
    const run = this.#queue.then(async (): Promise<CommitResult> => {
      await this.open();
      if (this.#body.state.revision !== expected) return {ok: false, current: this.#body.state.revision};
      const body: FileBody = {state, history: [...this.#body.history, change]};
      await this.#write(body);
      this.#body = body;
      return {ok: true};
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async history(limit?: number): Promise<Change[]> {
    await this.open();
    const all = this.#body.history;
    return limit === undefined ? [...all] : all.slice(-limit);
  }

  async close(): Promise<void> {
    await this.#queue;
  }

  async #write(body: FileBody): Promise<void> {
    const temp = `${this.#path}.${process.pid}.${Date.now()}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(body)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.#path);
    } catch (error) {
      await rm(temp, {force: true});
      throw error;
    }
  }
}
