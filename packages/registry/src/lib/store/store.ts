import type {Change, RegistryState} from '../records.js';

/** The outcome of {@link RegistryStore.commit}: applied, or refused because the revision moved on. */
export type CommitResult = {readonly ok: true} | {readonly ok: false; readonly current: number};

/**
 * Where the registry's state and history live. One interface, so a file on one machine and Redis
 * for several nodes are interchangeable. `commit` is a compare-and-set on the revision: of two
 * writers expecting the same revision, exactly one wins.
 */
export interface RegistryStore {
  /** Loads (or connects); idempotent. */
  open(): Promise<void>;
  /** The current state (every node sees the last committed one). */
  read(): Promise<RegistryState>;
  /** Writes `state` and appends `change` if the stored revision is still `expected`. */
  commit(expected: number, state: RegistryState, change: Change): Promise<CommitResult>;
  /** Changes, oldest first; the last `limit` when given. */
  history(limit?: number): Promise<Change[]>;
  close(): Promise<void>;
}
