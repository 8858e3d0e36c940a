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
  /** Whose share of pending connections it counts against ({@link clientKey}). */
  readonly client: string;
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
  /**
   * How many may wait at once across all clients; default 10,000. Past it the oldest token of the
   * client holding the most is forgotten, so a flood never locks other clients out.
   */
  readonly max?: number;
  /**
   * How many one client (its principal, else its remote address) may have waiting; default 100.
   * Past it that client's own oldest token is forgotten: a flooder only ever evicts itself.
   */
  readonly perClient?: number;
  /** How long a token stays usable unclaimed; default 10 s (clients connect right after negotiating). */
  readonly timeoutMs?: number;
}

/** Default of {@link PendingConnectionOptions.max}. */
export const DEFAULT_MAX_PENDING = 10_000;
/** Default of {@link PendingConnectionOptions.perClient}. */
export const DEFAULT_PENDING_PER_CLIENT = 100;
/** Default of {@link PendingConnectionOptions.timeoutMs}: 10 s. */
export const DEFAULT_PENDING_TIMEOUT_MS = 10_000;

/**
 * Who a pending connection is accounted to: the principal's user id, else the remote address.
 * Behind a reverse proxy every anonymous client shares the proxy's address (and so one share).
 */
export function clientKey(principal: Principal | undefined, remoteAddress: string | undefined): string {
  return principal !== undefined ? `user:${principal.userId}` : `addr:${remoteAddress ?? 'unknown'}`;
}

/**
 * The connections negotiate created, by token. Those no transport claimed yet are also kept in
 * creation order, overall and per client, so a timer reaps the expired ones from the front without
 * scanning the rest; an expired token is refused at once, even before the timer reaps it. Negotiate
 * never refuses for want of room: it evicts the oldest waiting token of whoever holds the most.
 */
export class ConnectionRegistry {
  readonly #byToken = new Map<string, ConnectionEntry>();
  /** Unclaimed connections, oldest first (a Map keeps insertion order). */
  readonly #pending = new Map<string, ConnectionEntry>();
  /** Unclaimed connections per client key, oldest first. */
  readonly #byClient = new Map<string, Map<string, ConnectionEntry>>();
  readonly #timeoutMs: number;
  readonly #max: number;
  readonly #perClient: number;
  #reaper: ReturnType<typeof setInterval> | undefined;

  constructor(options: PendingConnectionOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS;
    this.#max = Math.max(1, options.max ?? DEFAULT_MAX_PENDING);
    this.#perClient = Math.max(1, Math.min(options.perClient ?? DEFAULT_PENDING_PER_CLIENT, this.#max));
  }

  /**
   * Creates a connection; for negotiate version 0 its token is its id, as those clients expect.
   * `client` is who it is accounted to ({@link clientKey}); past that client's share its own oldest
   * waiting token is forgotten, and past the overall cap the oldest of the largest holder's.
   */
  create(
    options: {negotiateVersion: number; principal?: Principal | undefined; statefulReconnect?: boolean; client?: string},
    now = Date.now(),
  ): ConnectionEntry {
    const client = options.client ?? clientKey(options.principal, undefined);
    let mine = this.#byClient.get(client);
    if (mine !== undefined && mine.size >= this.#perClient) this.reap(now);
    mine = this.#byClient.get(client);
    if (mine !== undefined && mine.size >= this.#perClient) this.#evictOldest(mine);
    if (this.#pending.size >= this.#max) {
      this.reap(now);
      if (this.#pending.size >= this.#max) this.#evictOldest(this.#largestHolder());
    }
    const connectionId = randomId();
    const entry: ConnectionEntry = {
      connectionId,
      token: options.negotiateVersion >= 1 ? randomId() : connectionId,
      createdAt: now,
      principal: options.principal,
      client,
      statefulReconnect: options.statefulReconnect ?? false,
      transport: undefined,
      sink: undefined,
      posting: false,
      websocket: undefined,
    };
    this.#byToken.set(entry.token, entry);
    this.#pending.set(entry.token, entry);
    if (mine === undefined) this.#byClient.set(client, (mine = new Map()));
    mine.set(entry.token, entry);
    this.#startReaper();
    return entry;
  }

  /** Waiting connections of one client key, for tests and diagnostics. */
  pendingOf(client: string): number {
    return this.#byClient.get(client)?.size ?? 0;
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
    this.#unpend(entry);
  }

  /** Forgets a connection (closed, expired or evicted). */
  delete(token: string): void {
    const entry = this.#byToken.get(token);
    this.#byToken.delete(token);
    if (entry !== undefined) this.#unpend(entry);
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

  #unpend(entry: ConnectionEntry): void {
    if (!this.#pending.delete(entry.token)) return;
    const mine = this.#byClient.get(entry.client);
    mine?.delete(entry.token);
    if (mine?.size === 0) this.#byClient.delete(entry.client);
  }

  #evictOldest(mine: Map<string, ConnectionEntry> | undefined): void {
    const oldest = mine?.keys().next();
    if (oldest !== undefined && oldest.done !== true) this.delete(oldest.value);
  }

  /** The pending set of the client holding the most; a scan, but only when the overall cap is reached. */
  #largestHolder(): Map<string, ConnectionEntry> | undefined {
    let largest: Map<string, ConnectionEntry> | undefined;
    for (const mine of this.#byClient.values()) if (largest === undefined || mine.size > largest.size) largest = mine;
    return largest;
  }

  #startReaper(): void {
    if (this.#reaper !== undefined) return;
    this.#reaper = setInterval(() => this.reap(), Math.max(10, Math.min(5_000, this.#timeoutMs / 2)));
    this.#reaper.unref();
  }
}
