import {randomBytes} from 'node:crypto';

/** A connection handed out by negotiate, or opened directly by a WebSocket without negotiate. */
export interface PendingConnection {
  readonly connectionId: string;
  /** The secret the client presents as `?id=`; equal to the id for negotiate version 0. */
  readonly token: string;
  readonly createdAt: number;
  /** Set once a transport has taken the connection. */
  attached: boolean;
}

/** A fresh URL-safe random id, for connection ids and tokens. */
export function randomId(): string {
  // 16 random bytes, URL-safe: as unguessable as ASP.NET's ids and tokens.
  return randomBytes(16).toString('base64url');
}

/**
 * The connections negotiate created, by token. A token that no transport claims within
 * `unclaimedTimeoutMs` is forgotten, so abandoned negotiations cannot pile up.
 */
export class ConnectionRegistry {
  readonly #byToken = new Map<string, PendingConnection>();
  readonly #unclaimedTimeoutMs: number;

  constructor(options: {unclaimedTimeoutMs?: number} = {}) {
    this.#unclaimedTimeoutMs = options.unclaimedTimeoutMs ?? 30_000;
  }

  /** Creates a connection; for negotiate version 0 its token is its id, as those clients expect. */
  create(negotiateVersion: number, now = Date.now()): PendingConnection {
    this.sweep(now);
    const connectionId = randomId();
    const connection = {connectionId, token: negotiateVersion >= 1 ? randomId() : connectionId, createdAt: now, attached: false};
    this.#byToken.set(connection.token, connection);
    return connection;
  }

  get(token: string): PendingConnection | undefined {
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
    for (const [token, c] of this.#byToken) {
      if (!c.attached && now - c.createdAt > this.#unclaimedTimeoutMs) this.#byToken.delete(token);
    }
  }
}
