import {randomBytes} from 'node:crypto';
import type {Principal} from './authenticator.js';
import type {ConnectionSink, TransportKind} from './transport-connection.js';
import type {WebSocketConnection} from './websocket-transport.js';

/** A connection handed out by negotiate (or opened by a WebSocket without negotiate), by token. */
export interface ConnectionEntry {
  readonly connectionId: string;
  /** The secret the client presents as `?id=`; equal to the id for negotiate version 0. */
  readonly token: string;
  readonly createdAt: number;
  /** Who negotiated it; later requests on the connection must be the same user. */
  readonly principal: Principal | undefined;
  /** The client asked for stateful reconnect at negotiate. */
  readonly statefulReconnect: boolean;
  /** The transport that claimed the connection, once one did. */
  transport: TransportKind | undefined;
  /** Where the connection's input goes, once a transport claimed it. */
  sink: ConnectionSink | undefined;
  /** A POST (send) is being read: a second concurrent one is refused. */
  posting: boolean;
  /** The WebSocket connection, kept so a stateful-reconnect reattach can find it. */
  websocket: WebSocketConnection | undefined;
}

/** A fresh URL-safe random id, for connection ids and tokens: 128 bits, as unguessable as ASP.NET's. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** Bounds of the connections negotiated but not yet claimed by a transport. */
export interface PendingConnectionOptions {
  /** How many may wait at once; negotiate answers 429 past it. Default 10,000. */
  readonly max?: number;
  /** How long a token stays usable unclaimed; default 30 s. */
  readonly timeoutMs?: number;
}

/** Thrown by {@link ConnectionRegistry.create} when too many negotiated connections are unclaimed. */
export class PendingLimitError extends Error {
  override readonly name = 'PendingLimitError';
  constructor(readonly limit: number) {
    super(`Too many negotiated connections not yet connected (at most ${limit}, option pendingConnections.max); retry later.`);
  }
}

/**
 * The connections negotiate created, by token. Those no transport claimed yet are also kept in
 * creation order, so a timer reaps the expired ones from the front without scanning the rest; an
 * expired token is refused at once, even before the timer reaps it.
 */
export class ConnectionRegistry {
  readonly #byToken = new Map<string, ConnectionEntry>();
  /** Unclaimed connections, oldest first (a Map keeps insertion order). */
  readonly #pending = new Map<string, ConnectionEntry>();
  readonly #timeoutMs: number;
  readonly #max: number;
  #reaper: ReturnType<typeof setInterval> | undefined;

  constructor(options: PendingConnectionOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#max = options.max ?? 10_000;
  }

  /**
   * Creates a connection; for negotiate version 0 its token is its id, as those clients expect.
   * Throws {@link PendingLimitError} when too many negotiated connections wait to be claimed.
   */
  create(options: {negotiateVersion: number; principal?: Principal | undefined; statefulReconnect?: boolean}, now = Date.now()): ConnectionEntry {
    if (this.#pending.size >= this.#max) {
      this.reap(now);
      if (this.#pending.size >= this.#max) throw new PendingLimitError(this.#max);
    }
    const connectionId = randomId();
    const entry: ConnectionEntry = {
      connectionId,
      token: options.negotiateVersion >= 1 ? randomId() : connectionId,
      createdAt: now,
      principal: options.principal,
      statefulReconnect: options.statefulReconnect ?? false,
      transport: undefined,
      sink: undefined,
      posting: false,
      websocket: undefined,
    };
    this.#byToken.set(entry.token, entry);
    this.#pending.set(entry.token, entry);
    this.#startReaper();
    return entry;
  }

  /** The connection of `token`; undefined when unknown, or negotiated and left unclaimed too long. */
  get(token: string, now = Date.now()): ConnectionEntry | undefined {
    const entry = this.#byToken.get(token);
    if (entry !== undefined && entry.transport === undefined && now - entry.createdAt > this.#timeoutMs) {
      this.delete(token);
      return undefined;
    }
    return entry;
  }

  /** A transport took the connection: it is no longer pending, and no longer expires. */
  claim(entry: ConnectionEntry, transport: TransportKind): void {
    entry.transport = transport;
    this.#pending.delete(entry.token);
  }

  delete(token: string): void {
    this.#byToken.delete(token);
    this.#pending.delete(token);
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** Connections negotiated and not yet claimed by a transport. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Forgets unclaimed connections older than the timeout: the oldest first, stopping at the first young one. */
  reap(now = Date.now()): void {
    for (const [token, entry] of this.#pending) {
      if (now - entry.createdAt <= this.#timeoutMs) break;
      this.delete(token);
    }
    if (this.#pending.size === 0) this.close();
  }

  /** Stops the reaper timer. */
  close(): void {
    clearInterval(this.#reaper);
    this.#reaper = undefined;
  }

  #startReaper(): void {
    if (this.#reaper !== undefined) return;
    this.#reaper = setInterval(() => this.reap(), Math.max(10, Math.min(5_000, this.#timeoutMs / 2)));
    this.#reaper.unref();
  }
}
