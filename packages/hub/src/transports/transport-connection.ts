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
  /** Cuts the connection abruptly, as a network failure would (for failure drills). */
  abort(): void;
}

/** Where a transport delivers what arrives on one connection. */
export interface ConnectionSink {
  /** One transport message: text from text frames and SSE/long-polling bodies, bytes from binary frames. */
  receive(data: string | Uint8Array): void;
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
  constructor(
    readonly limit: number,
    readonly buffered: number,
  ) {
    super(`Closed a slow consumer: ${buffered} unsent bytes passed the bound of ${limit} (option maxBufferedBytes).`);
  }
}
