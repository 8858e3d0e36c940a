import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';
import {BodyTooLargeError, readBody} from '../http/body.js';
import {accessToken, type Authenticator, type Principal} from './authenticator.js';
import {clientKey, ConnectionRegistry, type ConnectionEntry, type PendingConnectionOptions} from './connection-registry.js';
import {LongPollingTransport, type LongPollingOptions} from './long-polling-transport.js';
import {negotiateResponse, requestedNegotiateVersion} from './negotiate.js';
import {ServerSentEventsTransport} from './server-sent-events-transport.js';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  type ConnectionHandler,
  type ConnectionRequest,
  type ConnectionSink,
  type TransportConnection,
  type TransportKind,
} from './transport-connection.js';
import {WebSocketTransport} from './websocket-transport.js';

/** Options of {@link HubEndpoint}. */
export interface HubEndpointOptions {
  /** Where the hub lives, e.g. `/hubs/events`; negotiate is at `${path}/negotiate`. */
  readonly path: string;
  /** The hub. */
  readonly handler: ConnectionHandler;
  /** Transports offered, in the order clients should try them; default all three. */
  readonly transports?: readonly TransportKind[];
  /** Largest transport message (WebSocket frame, POST body) accepted, in bytes; default 1 MB. */
  readonly maxTransportMessageSize?: number;
  /**
   * Unsent bytes one connection may have queued (WebSocket and SSE send buffers, the long-polling
   * queue); past it the connection is cut off and its client reconnects. Default 1 MB.
   */
  readonly maxBufferedBytes?: number;
  /** Decides who each request is; without one every request is anonymous. */
  readonly authenticate?: Authenticator;
  readonly longPolling?: LongPollingOptions;
  /** Bounds of negotiated connections no transport has claimed yet (count, and how long a token lives). */
  readonly pendingConnections?: PendingConnectionOptions;
}

/** Every transport, in the order the official client should try them. */
export const ALL_TRANSPORTS: readonly TransportKind[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/**
 * The HTTP face of one hub: negotiate, the three transports, the POST send path and DELETE. It knows
 * tokens, status codes and sockets, and hands each connection to the hub as bytes in and out.
 */
export class HubEndpoint {
  readonly path: string;
  readonly #handler: ConnectionHandler;
  readonly #registry: ConnectionRegistry;
  readonly #transports: readonly TransportKind[];
  readonly #maxMessage: number;
  readonly #authenticate: Authenticator | undefined;
  readonly #websockets: WebSocketTransport;
  readonly #sse: ServerSentEventsTransport;
  readonly #longPolling: LongPollingTransport;
  /** The transport connection of each claimed entry, to end it when its input cannot be handled. */
  readonly #connections = new WeakMap<ConnectionEntry, TransportConnection>();

  constructor(options: HubEndpointOptions) {
    this.path = options.path.replace(/\/+$/, '');
    this.#handler = options.handler;
    this.#transports = options.transports ?? ALL_TRANSPORTS;
    this.#registry = new ConnectionRegistry(options.pendingConnections);
    this.#maxMessage = options.maxTransportMessageSize ?? 1024 * 1024;
    this.#authenticate = options.authenticate;
    const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#websockets = new WebSocketTransport({maxPayload: this.#maxMessage, maxBufferedBytes});
    this.#sse = new ServerSentEventsTransport({maxBufferedBytes});
    this.#longPolling = new LongPollingTransport({maxBufferedBytes, ...options.longPolling});
  }

  /** Answers `req` if it is addressed to this hub; resolves false otherwise. */
  async handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname === `${this.path}/negotiate`) {
      if (req.method !== 'POST') reply(res, 405, 'Negotiate takes POST.', {allow: 'POST'});
      else await this.#negotiate(req, url, res);
      return true;
    }
    if (url.pathname !== this.path) return false;
    const token = url.searchParams.get('id');
    if (token === null) return reply(res, 400, 'Connection ID required.');
    const entry = this.#registry.get(token);
    if (entry === undefined) return reply(res, 404, 'No connection with that ID.');
    if (req.method === 'DELETE') return this.#delete(req, res, url, token, entry);
    const principal = await this.#authenticateFor(req, url, res, entry);
    if (principal === false) return true;
    switch (req.method) {
      case 'GET':
        this.#get(req, res, url, entry);
        return true;
      case 'POST':
        await this.#post(req, res, entry);
        return true;
      default:
        return reply(res, 405, 'Use GET, POST or DELETE.', {allow: 'GET, POST, DELETE'});
    }
  }

  /** Takes a WebSocket upgrade if it is addressed to this hub; resolves false otherwise. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<boolean> {
    if (url.pathname !== this.path) return false;
    if (!this.#transports.includes('WebSockets')) return rejectUpgrade(socket, 400, 'Bad Request');
    const token = url.searchParams.get('id');
    let entry: ConnectionEntry;
    if (token === null) {
      // skipNegotiation: the client connects straight away and the connection starts here.
      const principal = await this.#principal(req, url);
      if (principal === null) return rejectUpgrade(socket, 401, 'Unauthorized');
      entry = this.#registry.create({negotiateVersion: 1, principal, client: clientKey(principal, req.socket.remoteAddress)});
    } else {
      const found = this.#registry.get(token);
      if (found === undefined) return rejectUpgrade(socket, 404, 'Not Found');
      const reattach = found.websocket?.detached === true;
      if (found.transport !== undefined && !reattach) return rejectUpgrade(socket, 409, 'Conflict');
      const principal = await this.#principal(req, url);
      if (principal === null) return rejectUpgrade(socket, 401, 'Unauthorized');
      if (principal?.userId !== found.principal?.userId) return rejectUpgrade(socket, 403, 'Forbidden');
      if (reattach) {
        // Stateful reconnect: the same connection continues on a new socket, with no handshake.
        this.#websockets.reattach(req, socket, head, found.websocket!);
        return true;
      }
      entry = found;
    }
    this.#registry.claim(entry, 'WebSockets');
    entry.websocket = this.#websockets.accept(req, socket, head, {
      connectionId: entry.connectionId,
      request: this.#request(req, url, entry),
      handler: this.#claim(entry),
      supportsReconnect: entry.statefulReconnect,
      onFinished: () => this.#registry.delete(entry.token),
    });
    return true;
  }

  /** Ends every connection's transport. */
  close(): void {
    this.#websockets.close();
    this.#sse.close();
    this.#longPolling.close();
    this.#registry.close();
  }

  /** Connections negotiated and not yet claimed by a transport (for tests and metrics). */
  get pendingConnections(): number {
    return this.#registry.pending;
  }

  async #negotiate(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const principal = await this.#principal(req, url);
    if (principal === null) {
      unauthorized(res, accessToken(url, req.headers));
      return;
    }
    const version = requestedNegotiateVersion(url);
    // Echoed only when asked: the official client fails if a server offers it unasked.
    const statefulReconnect = url.searchParams.get('useStatefulReconnect') === 'true';
    const entry = this.#registry.create({negotiateVersion: version, principal, statefulReconnect, client: clientKey(principal, req.socket.remoteAddress)});
    const body = negotiateResponse({
      requestedVersion: version,
      connectionId: entry.connectionId,
      connectionToken: entry.token,
      transports: this.#transports,
      statefulReconnect,
    });
    res.writeHead(200, {'content-type': 'application/json', 'cache-control': 'no-store'});
    res.end(JSON.stringify(body));
  }

  #get(req: IncomingMessage, res: ServerResponse, url: URL, entry: ConnectionEntry): void {
    const wantsEvents = (req.headers.accept ?? '').includes('text/event-stream');
    if (wantsEvents) {
      if (!this.#transports.includes('ServerSentEvents')) return void reply(res, 400, 'Server-Sent Events are not offered.');
      if (entry.transport !== undefined) return void reply(res, 409, `The connection already uses ${entry.transport}.`);
      this.#registry.claim(entry, 'ServerSentEvents');
      this.#sse.open(req, res, {connectionId: entry.connectionId, request: this.#request(req, url, entry), handler: this.#claim(entry)});
      return;
    }
    if (!this.#transports.includes('LongPolling')) return void reply(res, 400, 'Long polling is not offered.');
    if (entry.transport !== undefined && entry.transport !== 'LongPolling') {
      return void reply(res, 409, `The connection already uses ${entry.transport}.`);
    }
    this.#registry.claim(entry, 'LongPolling');
    this.#longPolling.poll(req, res, entry.token, {
      connectionId: entry.connectionId,
      request: this.#request(req, url, entry),
      handler: this.#claim(entry),
      onClosed: () => this.#registry.delete(entry.token),
    });
  }

  async #post(req: IncomingMessage, res: ServerResponse, entry: ConnectionEntry): Promise<void> {
    if (entry.transport === 'WebSockets') return void reply(res, 405, 'This connection sends over its WebSocket.');
    if (entry.sink === undefined) return void reply(res, 409, 'No transport has started on this connection yet.');
    if (entry.posting) return void reply(res, 409, 'Another send is in progress on this connection.');
    entry.posting = true;
    try {
      let body: Buffer;
      try {
        body = await readBody(req, this.#maxMessage);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        return void reply(res, 413, `Message too large: the limit is ${this.#maxMessage} bytes (option maxTransportMessageSize).`, {connection: 'close'});
      }
      let ready: Promise<void> | void;
      try {
        ready = entry.sink.receive(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      } catch (error) {
        // Nothing a client sends may end the process or leave the connection half-working: it ends.
        this.#connections.get(entry)?.abort(error instanceof Error ? error : new Error(String(error)));
        return void reply(res, 500, 'The server could not handle this message; the connection was closed.');
      }
      // The hub is full: the POST is answered once it has room, and the client (one POST at a time) waits.
      if (ready !== undefined) await ready;
      reply(res, 200, '');
    } finally {
      entry.posting = false;
    }
  }

  /** The handler a transport gets for `entry`: records the hub's sink and forgets the token on close. */
  #claim(entry: ConnectionEntry): ConnectionHandler {
    return {
      connect: (connection): ConnectionSink => {
        this.#connections.set(entry, connection);
        const sink = this.#handler.connect(connection);
        const claimed: ConnectionSink = {
          receive: (data) => sink.receive(data),
          closed: (error) => {
            this.#registry.delete(entry.token);
            entry.sink = undefined;
            sink.closed(error);
          },
          detached: () => sink.detached?.(),
          reattached: () => sink.reattached?.(),
        };
        entry.sink = claimed;
        return claimed;
      },
    };
  }

  #request(req: IncomingMessage, url: URL, entry: ConnectionEntry): ConnectionRequest {
    return {url, headers: req.headers, remoteAddress: req.socket.remoteAddress, principal: entry.principal};
  }

  /** The principal of a request: undefined when no authenticator is set, null when refused. */
  async #principal(req: IncomingMessage, url: URL): Promise<Principal | null | undefined> {
    if (this.#authenticate === undefined) return undefined;
    try {
      return await this.#authenticate({url, headers: req.headers, token: accessToken(url, req.headers)});
    } catch {
      return null;
    }
  }

  /**
   * Ends a long-polling connection. The connection token is proof enough to end one's own
   * connection (it reaches no data), so an expired access token does not stop it: the official
   * client sends its DELETE with the token that just expired when the server closed the connection
   * for that reason, and refusing it would leave the connection in its groups until the disconnect
   * timeout. A valid token of another user is still refused.
   */
  async #delete(req: IncomingMessage, res: ServerResponse, url: URL, token: string, entry: ConnectionEntry): Promise<true> {
    const principal = await this.#principal(req, url);
    if (principal !== null && principal !== undefined && principal.userId !== entry.principal?.userId) {
      return reply(res, 403, 'This connection belongs to another user.');
    }
    if (entry.transport !== 'LongPolling') return reply(res, 405, 'DELETE ends long-polling connections only.');
    this.#longPolling.delete(token);
    return reply(res, 202, '');
  }

  /** Authenticates a transport request; answers 401/403 and returns false when it may not proceed. */
  async #authenticateFor(req: IncomingMessage, url: URL, res: ServerResponse, entry: ConnectionEntry): Promise<Principal | undefined | false> {
    const principal = await this.#principal(req, url);
    if (principal === null) {
      unauthorized(res, accessToken(url, req.headers));
      return false;
    }
    if (principal?.userId !== entry.principal?.userId) {
      reply(res, 403, 'This connection belongs to another user.');
      return false;
    }
    return principal;
  }
}

/**
 * A 401 whose body says why in words, since the official client puts the body in the error the page
 * sees (the page bridge shows it as the connection's `reason`); the header says it as RFC 6750 does.
 */
function unauthorized(res: ServerResponse, token: string | undefined): true {
  return token === undefined
    ? reply(res, 401, 'Unauthorized: this hub requires an access token and the request carried none.', {'www-authenticate': 'Bearer'})
    : reply(res, 401, 'Unauthorized: the access token was refused (expired, or not valid for this hub).', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers});
  res.end(message);
  return true;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): true {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return true;
}
