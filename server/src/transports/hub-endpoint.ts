import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';
import {ConnectionRegistry, randomId} from './connection-registry';
import {negotiateResponse, requestedNegotiateVersion} from './negotiate';
import type {ConnectionHandler, ConnectionRequest, ConnectionSink, TransportKind} from './transport-connection';
import {WebSocketTransport} from './websocket-transport';

/** Options of {@link HubEndpoint}. */
export interface HubEndpointOptions {
  /** Where the hub lives, e.g. `/hubs/events`; negotiate is at `${path}/negotiate`. */
  readonly path: string;
  /** The hub. */
  readonly handler: ConnectionHandler;
  /** Largest transport message accepted, in bytes; larger frames close the socket. */
  readonly maxTransportMessageSize?: number;
}

/**
 * The HTTP face of one hub: negotiate, and the transports that carry its connections. It knows
 * tokens, status codes and sockets, and hands each connection to the hub as bytes in and out.
 */
export class HubEndpoint {
  readonly path: string;
  readonly #handler: ConnectionHandler;
  readonly #registry = new ConnectionRegistry();
  readonly #websockets: WebSocketTransport;
  readonly #transports: readonly TransportKind[] = ['WebSockets'];

  constructor(options: HubEndpointOptions) {
    this.path = options.path.replace(/\/+$/, '');
    this.#handler = options.handler;
    this.#websockets = new WebSocketTransport({maxPayload: options.maxTransportMessageSize ?? 1024 * 1024});
  }

  /** Answers `req` if it is addressed to this hub; returns false otherwise. */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname === `${this.path}/negotiate`) {
      if (req.method !== 'POST') return reply(res, 405, 'Negotiate takes POST.', {allow: 'POST'});
      this.#negotiate(url, res);
      return true;
    }
    if (url.pathname !== this.path) return false;
    if (req.method === 'GET' && url.searchParams.has('id') && this.#registry.get(url.searchParams.get('id')!) === undefined) {
      return reply(res, 404, 'No connection with that id.');
    }
    return reply(res, 400, 'This hub takes WebSocket connections: negotiate first, then upgrade.');
  }

  /** Takes a WebSocket upgrade if it is addressed to this hub; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (url.pathname !== this.path) return false;
    const token = url.searchParams.get('id');
    let connectionId: string;
    let forget = (): void => {};
    if (token === null) {
      // skipNegotiation: the client connects straight away and the connection starts here.
      connectionId = randomId();
    } else {
      const pending = this.#registry.get(token);
      if (pending === undefined) return rejectUpgrade(socket, 404, 'Not Found');
      if (pending.attached) return rejectUpgrade(socket, 409, 'Conflict');
      pending.attached = true;
      connectionId = pending.connectionId;
      forget = () => this.#registry.delete(token);
    }
    const request: ConnectionRequest = {url, headers: req.headers, remoteAddress: req.socket.remoteAddress};
    const handler: ConnectionHandler = {
      connect: (connection): ConnectionSink => {
        const sink = this.#handler.connect(connection);
        return {
          receive: (data) => sink.receive(data),
          closed: (error) => {
            forget();
            sink.closed(error);
          },
        };
      },
    };
    this.#websockets.accept(req, socket, head, {connectionId, request, handler});
    return true;
  }

  /** Closes every connection's transport. */
  close(): void {
    this.#websockets.close();
  }

  #negotiate(url: URL, res: ServerResponse): void {
    const version = requestedNegotiateVersion(url);
    const connection = this.#registry.create(version);
    const body = negotiateResponse({
      requestedVersion: version,
      connectionId: connection.connectionId,
      connectionToken: connection.token,
      transports: this.#transports,
      statefulReconnect: false,
    });
    res.writeHead(200, {'content-type': 'application/json', 'cache-control': 'no-store'});
    res.end(JSON.stringify(body));
  }
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, {'content-type': 'text/plain; charset=utf-8', ...headers});
  res.end(message);
  return true;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): true {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return true;
}
