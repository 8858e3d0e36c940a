import type {IncomingHttpHeaders} from 'node:http';
import type {Principal} from './authenticator.js';

/** The transports of the SignalR wire protocol, named as in negotiate responses. */
export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** What the hub may know of the HTTP request that opened a connection. */
export interface ConnectionRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /** Who the authenticator said the connection belongs to; undefined when anonymous. */
  readonly principal: Principal | undefined;
}

/**
 * One client connection as a transport offers it to the hub: bytes out, close. Transports know
 * nothing of hub messages; the hub knows nothing of sockets.
 */
export interface TransportConnection {
  /** The public connection id (the token stays inside the transport layer). */
  readonly connectionId: string;
  readonly transport: TransportKind;
  readonly request: ConnectionRequest;
  /**
   * The transport proves the client alive by itself (long polling: every poll), so the hub sends
   * no pings and applies no client timeout; the transport ends the connection when polls stop.
   */
  readonly inherentKeepAlive: boolean;
  /** The client negotiated stateful reconnect and this transport can resume a dropped socket (WebSockets). */
  readonly supportsReconnect: boolean;
  /** Keep the connection across an unclean drop: report `detached`, accept a reattach, then `reattached`. */
  enableReconnect(): void;
  /** Sends one transport message; `binary` picks a binary WebSocket frame over a text one. */
  send(payload: Uint8Array, binary: boolean): void;
  /** Ends the connection; the sink's `closed` follows. */
  close(): void;
  /**
   * Cuts the connection abruptly, as a network failure would (failure drills; a hub cutting a slow
   * consumer). The sink's `closed` receives `error` when given.
   */
  abort(error?: Error): void;
  /** Bytes sent and not yet taken by the client: queued in the output pipe, the socket's buffer, the poll queue. */
  readonly bufferedBytes?: number;
  /** The bound on {@link bufferedBytes} past which the transport cuts the connection. */
  readonly maxBufferedBytes?: number;
  /**
   * Resolves once {@link bufferedBytes} is below `below` (at once if it is already), or the
   * connection ended. Lets a bulk sender (a replay) pace itself by what the client reads.
   */
  drained?(below: number): Promise<void>;
}

/** Where a transport delivers what arrives on one connection. */
export interface ConnectionSink {
  /**
   * One transport message: text from text frames, bytes from binary frames and SSE/long-polling
   * bodies. A returned promise means the receiver is full: read nothing more from this connection
   * until it settles (pause the socket, hold the POST), so TCP stops the sender.
   */
  receive(data: string | Uint8Array): Promise<void> | void;
  /** The connection ended, by either side; `error` when it did not end cleanly. */
  closed(error?: Error): void;
  /** The socket dropped but the client may reattach (stateful reconnect): hold messages. */
  detached?(): void;
  /** A new socket took over the connection; nothing of negotiate or the handshake is repeated. */
  reattached?(): void;
}

/** The hub as transports see it: given a new connection, it says where the connection's input goes. */
export interface ConnectionHandler {
  connect(connection: TransportConnection): ConnectionSink;
}

/** Default bound on a connection's unsent bytes: 1 MB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * A connection's unsent bytes passed the transport's bound: the client stopped reading (or reads
 * slower than it is sent to). The transport cut it off to free that memory; the client's
 * reconnect resumes its topics from their offsets. The sink's `closed` receives this error.
 */
export class SendBufferOverflowError extends Error {
  override readonly name = 'SendBufferOverflowError';
  /** `message` replaces the default one (for bounds other than the transport's byte bound). */
  constructor(
    readonly limit: number,
    readonly buffered: number,
    message?: string,
  ) {
    super(message ?? `Closed a slow consumer: ${buffered} unsent bytes passed the bound of ${limit} (option maxBufferedBytes).`);
  }
}

/**
 * Waiters for a connection's unsent bytes to fall below a level: transports call {@link check}
 * whenever bytes left (a write, the socket's 'drain', a poll taken) and {@link end} on close.
 */
export class DrainWaiters {
  #waiting: Array<{readonly below: number; readonly resolve: () => void}> = [];

  /** Whether anyone waits. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Resolves once the unsent bytes (`buffered` now) fall below `below`, or {@link end} is called. */
  wait(below: number, buffered: number): Promise<void> {
    if (buffered < below) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({below, resolve}));
  }

  /** Releases the waiters whose level `buffered` is now below. */
  check(buffered: number): void {
    if (this.#waiting.length === 0) return;
    const still = [];
    for (const w of this.#waiting) {
      if (buffered < w.below) w.resolve();
      else still.push(w);
    }
    this.#waiting = still;
  }

  /** The connection ended: releases everyone. */
  end(): void {
    for (const w of this.#waiting.splice(0)) w.resolve();
  }
}
