import {existsSync} from 'node:fs';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {Duplex} from 'node:stream';
import type {ContractRegistry} from '@switchboard/contracts';
import {pino, type Logger} from 'pino';
import {EventService, type EventServiceOptions} from '../events/event-service.js';
import {Hub, type HubOptions} from '../hub/index.js';
import {MemoryTopicLog, type TopicLog} from '../log/topic-log.js';
import {HubEndpoint, type HubEndpointOptions} from '../transports/hub-endpoint.js';
import {Cors, type CorsOptions} from './cors.js';
import {Metrics} from './metrics.js';
import {sendJson} from './respond.js';
import {handleTopicsApi} from './topics-api.js';
import {staticFiles} from './static-files.js';

/** Where the events hub is served. */
export const HUB_PATH = '/hubs/events';

/** Options of {@link SwitchboardServer}. */
export interface SwitchboardServerOptions {
  /** The contracts every incoming envelope is validated against. */
  readonly registry: ContractRegistry;
  /** A folder of built pages and apps to serve at `/`; nothing is served when omitted or missing. */
  readonly staticDir?: string;
  /** Retained topic logs; in memory by default. */
  readonly log?: TopicLog;
  /** Topic policies (unknown types), by topic name. */
  readonly topics?: EventServiceOptions['topics'];
  /** Hub settings (keep-alive, timeouts, limits, backplane). */
  readonly hub?: Omit<HubOptions, 'logger'>;
  /** Transport settings of the hub endpoint (transports offered, authentication, long polling). */
  readonly endpoint?: Omit<HubEndpointOptions, 'path' | 'handler'>;
  /** Other origins allowed to use the hub, the API and the app bundles from a browser. */
  readonly cors?: CorsOptions;
  /**
   * Failure drills: `POST /api/connections/{id}/drop?mode=abort|reconnect` cuts a connection (as a
   * network failure would) or closes it inviting a reconnect (as a restarting server does). Off by
   * default; for resilience tests and game days.
   */
  readonly drills?: boolean;
  /** Largest HTTP ingest body, in bytes; default 64 KB. */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
}

/**
 * The Switchboard server: the events hub at {@link HUB_PATH}, the topics HTTP API, health, and the
 * built shell and apps, on one port.
 *
 * ```ts
 * const server = new SwitchboardServer({registry: shopRegistry(), staticDir: 'dist'});
 * const url = await server.listen(8080);
 * ```
 */
export class SwitchboardServer {
  readonly hub: Hub;
  readonly events: EventService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly #http: Server;
  readonly #endpoint: HubEndpoint;
  readonly #static: ((req: IncomingMessage, res: ServerResponse, next: () => void) => void) | undefined;
  readonly #maxBodyBytes: number;
  readonly #cors: Cors;
  readonly #drills: boolean;
  readonly #routes: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean> = [];

  constructor(options: SwitchboardServerOptions) {
    this.logger = options.logger ?? pino({level: process.env['LOG_LEVEL'] ?? 'info'});
    this.hub = new Hub({...options.hub, logger: this.logger.child({component: 'hub'})});
    const log = options.log ?? new MemoryTopicLog();
    this.metrics = new Metrics(this.hub, log);
    this.events = new EventService({
      hub: this.hub,
      log,
      registry: options.registry,
      logger: this.logger.child({component: 'events'}),
      observer: this.metrics,
      ...(options.topics === undefined ? {} : {topics: options.topics}),
    });
    this.#endpoint = new HubEndpoint({...options.endpoint, path: HUB_PATH, handler: this.hub});
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#cors = new Cors(options.cors ?? {origins: []});
    this.#drills = options.drills ?? false;
    const dir = options.staticDir;
    this.#static = dir !== undefined && existsSync(dir) ? staticFiles(dir) : undefined;
    this.#http = createServer((req, res) => {
      this.#route(req, res).catch((error: unknown) => {
        this.logger.error({err: error, url: req.url}, 'request failed');
        if (!res.headersSent) sendJson(res, 500, {error: 'internal error'});
        else res.destroy();
      });
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Browsers apply no CORS to WebSockets: refuse foreign pages here, or any site could ride a user's cookies.
      const origin = req.headers.origin;
      if (origin !== undefined && !this.#cors.allows(origin, req.headers.host)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#endpoint
        .handleUpgrade(req, socket, head, requestUrl(req))
        .then((handled) => {
          if (!handled) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        })
        .catch((error: unknown) => {
          this.logger.error({err: error, url: req.url}, 'upgrade failed');
          socket.destroy();
        });
    });
  }

  /**
   * Adds HTTP routes of the application (read models, settings): `handler` answers a request and
   * returns true, or returns false to pass it on. Routes run after the hub and the topics API.
   */
  addRoutes(handler: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean): void {
    this.#routes.push(handler);
  }

  /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(port, host, () => {
        this.#http.off('error', reject);
        const address = this.#http.address() as AddressInfo;
        const shown = host === '127.0.0.1' || host === '::1' || host === '::' || host === '0.0.0.0' ? 'localhost' : host;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  /** The bound port, once listening. */
  get port(): number {
    return (this.#http.address() as AddressInfo).port;
  }

  /** Closes every hub connection (each client gets a Close message) and stops listening. */
  async close(): Promise<void> {
    this.hub.close();
    this.#endpoint.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (this.#cors.handle(req, res)) return;
    if (await this.#endpoint.handleRequest(req, res, url)) return;
    if (url.pathname === '/healthz') return sendJson(res, 200, {status: 'ok', connections: this.hub.connectionCount, transports: this.hub.connectionsByTransport()});
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, {'content-type': this.metrics.registry.contentType});
      res.end(text);
      return;
    }
    if (await handleTopicsApi(req, res, url, this.events, {maxBodyBytes: this.#maxBodyBytes})) return;
    const drill = /^\/api\/connections\/([^/]+)\/drop$/.exec(url.pathname);
    if (drill !== null && req.method === 'POST' && this.#drills) {
      const c = this.hub.connection(decodeURIComponent(drill[1]!));
      if (c === undefined || c.phase !== 'open') return sendJson(res, 404, {error: 'no such connection'});
      const mode = url.searchParams.get('mode') ?? 'abort';
      if (mode === 'reconnect') this.hub.closeConnection(c, 'Drill: the server closed this connection.', true);
      else if (mode === 'abort') c.abortTransport();
      else return sendJson(res, 400, {error: 'mode must be abort or reconnect'});
      return sendJson(res, 202, {dropped: c.connectionId, mode});
    }
    const connection = /^\/api\/connections\/([^/]+)$/.exec(url.pathname);
    if (connection !== null && req.method === 'GET') {
      // The connection id is public in SignalR (the token is the secret); say only how it is connected.
      const c = this.hub.connection(decodeURIComponent(connection[1]!));
      if (c === undefined || c.phase !== 'open') return sendJson(res, 404, {error: 'no such connection'});
      return sendJson(res, 200, {connectionId: c.connectionId, transport: c.transport, protocol: c.protocol?.name ?? null});
    }
    for (const route of this.#routes) if (await route(req, res, url)) return;
    if (this.#static !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      this.#static(req, res, () => sendJson(res, 404, {error: 'not found'}));
      return;
    }
    sendJson(res, 404, {error: 'not found'});
  }
}

function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://localhost');
}
