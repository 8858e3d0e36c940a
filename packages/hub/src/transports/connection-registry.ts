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

/**
 * The connections negotiate created, by token. A token that no transport claims within
 * `unclaimedTimeoutMs` is forgotten, so abandoned negotiations cannot pile up.
 */
export class ConnectionRegistry {
  readonly #byToken = new Map<string, ConnectionEntry>();
  readonly #unclaimedTimeoutMs: number;

  constructor(options: {unclaimedTimeoutMs?: number} = {}) {
    this.#unclaimedTimeoutMs = options.unclaimedTimeoutMs ?? 30_000;
  }

  /** Creates a connection; for negotiate version 0 its token is its id, as those clients expect. */
  create(options: {negotiateVersion: number; principal?: Principal | undefined; statefulReconnect?: boolean}, now = Date.now()): ConnectionEntry {
    this.sweep(now);
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
    return entry;
  }

  get(token: string): ConnectionEntry | undefined {
    return this.#byToken.get(token);
  }

  delete(token: string): void {
    this.#byToken.delete(token);
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** Forgets connections created before `now - unclaimedTimeoutMs` that no transport claimed. */
  sweep(now = Date.now()): void {
    for (const [token, entry] of this.#byToken) {
      if (entry.transport === undefined && now - entry.createdAt > this.#unclaimedTimeoutMs) this.#byToken.delete(token);
    }
  }
}
