/** Which connections a hub message is for. */
export type Audience =
  | {readonly kind: 'all'; readonly except?: readonly string[]}
  | {readonly kind: 'connections'; readonly ids: readonly string[]}
  | {readonly kind: 'groups'; readonly names: readonly string[]; readonly except?: readonly string[]}
  | {readonly kind: 'users'; readonly ids: readonly string[]};

/** Something a process can hold members of: a connection, a group, or a user's connections. */
export interface Scope {
  readonly kind: 'connection' | 'group' | 'user';
  readonly name: string;
}

/** One invocation to deliver to an audience, on every hub process. */
export interface BackplaneMessage {
  readonly audience: Audience;
  readonly target: string;
  readonly arguments: readonly unknown[];
}

/**
 * How hub processes share what they send. A hub publishes every send to the backplane and delivers
 * to its own connections only what the backplane hands back, so one process and many behave alike.
 * The in-memory backplane is the default; Redis pub/sub implements it for several processes.
 */
export interface Backplane {
  /** Sends `message` to every subscribed hub process, this one included. */
  publish(message: BackplaneMessage): void;
  /** Receives every published message; returns a function that stops receiving. */
  subscribe(receive: (message: BackplaneMessage) => void): () => void;
  /** Releases connections the backplane holds. */
  close(): Promise<void>;
  /**
   * Invokes `target` on a connection another process holds and resolves with the client's result
   * (client results across processes); rejects when no process answers within `timeoutMs`.
   */
  invokeRemote?(connectionId: string, target: string, args: readonly unknown[], timeoutMs: number): Promise<unknown>;
  /**
   * Serves other processes' {@link invokeRemote} requests: `invoke` runs one on a local connection,
   * or returns undefined when this process does not hold it.
   */
  serveInvocations?(invoke: RemoteInvoker): () => void;
  /**
   * Told when this process gains its first local member of `scope` (`present: true`) or loses its
   * last, so a backplane can listen only for what this process holds (Redis: one channel per
   * connection, group and user). Optional: a backplane without it hears every send.
   */
  membership?(scope: Scope, present: boolean): void;
  /** What the backplane holds back or refused, for metrics (optional). */
  stats?(): BackplaneStats;
}

/** A backplane's counters. */
export interface BackplaneStats {
  /** Sends waiting to be published (the engine is unreachable). */
  readonly queued: number;
  /** Sends refused so far because too many waited. */
  readonly refused: number;
}

/** Runs a client-result invocation on a local connection; undefined when the connection is not here. */
export type RemoteInvoker = (connectionId: string, target: string, args: readonly unknown[], timeoutMs: number) => Promise<unknown> | undefined;

/** The single-process backplane: a synchronous loop back to this process's subscribers. */
export class MemoryBackplane implements Backplane {
  readonly #receivers = new Set<(message: BackplaneMessage) => void>();

  publish(message: BackplaneMessage): void {
    for (const receive of this.#receivers) receive(message);
  }

  subscribe(receive: (message: BackplaneMessage) => void): () => void {
    this.#receivers.add(receive);
    return () => this.#receivers.delete(receive);
  }

  async close(): Promise<void> {
    this.#receivers.clear();
  }
}
