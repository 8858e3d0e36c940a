import type {Logger} from 'pino';
import type {Backplane} from '../backplane/index.js';
import type {TopicLog} from '../log/async-topic-log.js';

/**
 * Where a server keeps its topic logs and how its hub reaches other processes, as one choice:
 * in memory (the default, one process) or an engine shared by several (`redisEngine`).
 */
export interface Engine {
  readonly log: TopicLog;
  readonly backplane: Backplane;
  /** Connects; the server calls it before listening. */
  start(logger: Logger): Promise<void>;
  /**
   * The engine's state, shown in `GET /healthz` under `engine`; `ok: false` makes the status
   * `degraded` (optional).
   */
  health?(): {readonly ok: boolean; readonly [detail: string]: unknown};
  /** Disconnects; the server calls it when closing. */
  close(): Promise<void>;
}
