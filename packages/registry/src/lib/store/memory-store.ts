import {EMPTY_STATE, type Change, type RegistryState} from '../records.js';
import type {CommitResult, RegistryStore} from './store.js';

/** A registry store in memory: for tests and throwaway servers (gone on restart). */
export class MemoryRegistryStore implements RegistryStore {
  #state: RegistryState = EMPTY_STATE;
  readonly #history: Change[] = [];

  async open(): Promise<void> {}

  async read(): Promise<RegistryState> {
    return this.#state;
  }

  async commit(expected: number, state: RegistryState, change: Change): Promise<CommitResult> {
    if (this.#state.revision !== expected) return {ok: false, current: this.#state.revision};
    this.#state = state;
    this.#history.push(change);
    return {ok: true};
  }

  async history(limit?: number): Promise<Change[]> {
    return limit === undefined ? [...this.#history] : this.#history.slice(-limit);
  }

  async close(): Promise<void> {}
}
