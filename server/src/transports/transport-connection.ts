import type {IncomingHttpHeaders} from 'node:http';

/** The transports of the SignalR wire protocol, named as in negotiate responses. */
export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** What the hub may know of the HTTP request that opened a connection. */
export interface ConnectionRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
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
  /** Sends one transport message; `binary` picks a binary WebSocket frame over a text one. */
  send(payload: Uint8Array, binary: boolean): void;
  /** Ends the connection; the sink's `closed` follows. */
  close(): void;
}

/** Where a transport delivers what arrives on one connection. */
export interface ConnectionSink {
  /** One transport message: text from text frames and SSE/long-polling bodies, bytes from binary frames. */
  receive(data: string | Uint8Array): void;
  /** The connection ended, by either side; `error` when it did not end cleanly. */
  closed(error?: Error): void;
}

/** The hub as transports see it: given a new connection, it says where the connection's input goes. */
export interface ConnectionHandler {
  connect(connection: TransportConnection): ConnectionSink;
}
