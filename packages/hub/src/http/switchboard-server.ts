import {existsSync} from 'node:fs';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {Duplex} from 'node:stream';
import type {ContractRegistry} from '@switchboard/contracts';
import type {Logger} from 'pino';
import {createLogger} from '../logging/create-logger.js';
import {clientAppender} from '../auth/appender.js';
import {ExpiryWatch} from '../auth/expiry.js';
import {redactUrl} from '../auth/redact.js';
import {EventService, type EventServiceOptions} from '../events/event-service.js';
import {Hub, type HubOptions} from '../hub/index.js';
import {asyncTopicLog, isAsyncTopicLog, type TopicLog} from '../log/async-topic-log.js';
import {MemoryTopicLog, type SyncTopicLog} from '../log/topic-log.js';
import type {Engine} from '../engines/engine.js';
import {accessToken, type Authenticator, type Principal} from '../transports/authenticator.js';
import {HubEndpoint, type HubEndpointOptions} from '../transports/hub-endpoint.js';
import {hasScope} from '../auth/grants.js';
import {ClientFaultLog, clientFault} from './client-faults.js';
import {Cors, type CorsOptions} from './cors.js';
import {Metrics, type MetricsOptions} from './metrics.js';
import {sendJson} from './respond.js';
import {handleTopicsApi} from './topics-api.js';
import {staticFiles} from './static-files.js';

/** Default of {@link SwitchboardServerOptions.bodyTimeoutMs}: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/** Default of {@link SwitchboardServerOptions.writeTimeoutMs}: 30 s. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

/** Where the events hub is served. */
export const HUB_PATH = '/hubs/events';

/** Options of {@link SwitchboardServer}. */
export interface SwitchboardServerOptions {
  /** The contracts every incoming envelope is validated against. */
  readonly registry: ContractRegistry;
  /**
   * A folder of built pages and apps to serve at `/`. While it does not exist (nothing built yet), a
   * GET for a page answers `404` with {@link notBuilt}'s words; it is served once it appears.
   */
  readonly staticDir?: string;
  /** The plain-text answer to a GET for a page while `staticDir` does not exist; says to build by default. */
  readonly notBuilt?: string;
  /**
   * Where topics and the hub's backplane live: in memory by default; `redisEngine({url})` shares them
   * among several server processes. It supplies `log` and the hub's `backplane` unless those are given.
   */
  readonly engine?: Engine;
  /** Retained topic logs; in memory by default. A synchronous log (`MemoryTopicLog`) is adapted. */
  readonly log?: TopicLog | SyncTopicLog;
  /** Topic policies (who may subscribe, who may publish which types, unknown types), by topic name or pattern. */
  readonly topics?: EventServiceOptions['topics'];
  /** The policy of topics `topics` does not match. */
  readonly defaultTopic?: EventServiceOptions['defaultTopic'];
  /** Event types (globs) only server code appends, on every topic. */
  readonly serverOwned?: EventServiceOptions['serverOwned'];
  /** Hub settings (keep-alive, timeouts, limits, backplane). */
  readonly hub?: Omit<HubOptions, 'logger'>;
  /**
   * Transport settings of the hub endpoint (transports offered, authentication, long polling). The
   * `authenticate` function also guards the HTTP API (`/api/*`, `/metrics`); a connection whose
   * token carries `exp` is closed at that moment, inviting a reconnect with a fresh token.
   */
  readonly endpoint?: Omit<HubEndpointOptions, 'path' | 'handler'>;
  /** Other origins allowed to use the hub, the API and the app bundles from a browser. */
  readonly cors?: CorsOptions;
  /**
   * Failure drills: `POST /api/connections/{id}/drop?mode=abort|reconnect` cuts a connection (as a
   * network failure would) or closes it inviting a reconnect (as a restarting server does). Off by
   * default; for resilience tests and game days. With an authenticator, a drill needs a token with
   * the `drills` scope.
   */
  readonly drills?: boolean;
  /**
   * How long a request may take to arrive in full (headers and body); a slower one is answered 408
   * and closed. Default 30 s (Node's own `requestTimeout` is 300 s).
   */
  readonly bodyTimeoutMs?: number;
  /**
   * How long a written answer may wait for the client to take it; a client that does not read is
   * dropped (its socket destroyed), so unread answers cannot pile up in memory. Default 30 s.
   */
  readonly writeTimeoutMs?: number;
  /**
   * The scope (in the token's `scope` claim) `GET /metrics` needs when an authenticator is set,
   * even where anonymous clients are let in; default `metrics`. Without an authenticator it is open.
   */
  readonly metricsScope?: string;
  /** Largest HTTP ingest body, in bytes; default 64 KB. */
  readonly maxBodyBytes?: number;
  /** Bounds of metric labels (topics, event types with series of their own). */
  readonly metrics?: MetricsOptions;
  /** Topics one client may create (by user id, or remote address when anonymous; a `topicQuota` claim overrides it); default 100. */
  readonly topicsPerClient?: number;
  /** Commands one client may send through the hub (token bucket; default 50 at once, then 10/s; `false`: off). */
  readonly commandRateLimit?: EventServiceOptions['commandRateLimit'];
  /** Publishes one client may send (hub and HTTP; HTTP answers 429 with Retry-After); off by default. */
  readonly publishRateLimit?: EventServiceOptions['publishRateLimit'];
  /** Topics one connection may follow at once; default 100. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Live events held for a connection whose replay waits for it to read, past which it is cut as a slow consumer; default 10,000. */
  readonly maxHeldDuringReplay?: number;
  readonly logger?: Logger;
}

/** What an application route learns about its request besides the URL. */
export interface RouteContext {
  /** Who the request is, by the server's authenticator; undefined when anonymous or when no authenticator is set. */
  readonly principal: Principal | undefined;
}

/** A part's state in `GET /healthz`: `ok: false` turns the status to `degraded` (the answer stays 200: the hub still serves). */
export interface HealthReport {
  readonly ok: boolean;
  readonly [detail: string]: unknown;
}

/** An application route: answers and returns true, or returns false to pass the request on. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL, context: RouteContext) => Promise<boolean> | boolean;

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
  #static: ((req: IncomingMessage, res: ServerResponse, next: () => void) => void) | undefined;
  readonly #staticDir: string | undefined;
  readonly #notBuilt: string;
  readonly #maxBodyBytes: number;
  readonly #cors: Cors;
  readonly #drills: boolean;
  readonly #authenticate: Authenticator | undefined;
  readonly #expiry = new ExpiryWatch();
  readonly #routes: Route[] = [];
  readonly #engine: Engine | undefined;
  readonly #writeTimeoutMs: number;
  readonly #metricsScope: string;
  readonly #faults: ClientFaultLog;
  readonly #health = new Map<string, () => HealthReport>();

  constructor(options: SwitchboardServerOptions) {
    this.logger = options.logger ?? createLogger();
    this.#engine = options.engine;
    const engineHealth = options.engine?.health?.bind(options.engine);
    if (engineHealth !== undefined) this.#health.set('engine', engineHealth);
    const hubOptions = options.hub ?? {};
    const backplane = hubOptions.backplane ?? options.engine?.backplane;
    this.hub = new Hub({
      ...hubOptions,
      ...(backplane === undefined ? {} : {backplane}),
      logger: this.logger.child({component: 'hub'}),
      onConnected: (connection) => {
        this.#expiry.watch(connection.connectionId, connection.request.principal, () => {
          this.logger.info({connectionId: connection.connectionId, userId: connection.userId}, 'access token expired: closing the connection');
          this.hub.closeConnection(connection, 'The access token expired.', true);
        });
        hubOptions.onConnected?.(connection);
      },
      onDisconnected: (connection, error) => {
        this.#expiry.forget(connection.connectionId);
        hubOptions.onDisconnected?.(connection, error);
      },
    });
    const given = options.log ?? options.engine?.log ?? new MemoryTopicLog();
    const log = isAsyncTopicLog(given) ? given : asyncTopicLog(given);
    this.metrics = new Metrics(this.hub, log, options.metrics, backplane);
    this.events = new EventService({
      hub: this.hub,
      log,
      registry: options.registry,
      logger: this.logger.child({component: 'events'}),
      observer: this.metrics,
      ...(options.topics === undefined ? {} : {topics: options.topics}),
      ...(options.defaultTopic === undefined ? {} : {defaultTopic: options.defaultTopic}),
      ...(options.serverOwned === undefined ? {} : {serverOwned: options.serverOwned}),
      ...(options.maxSubscriptionsPerConnection === undefined ? {} : {maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection}),
      ...(options.maxHeldDuringReplay === undefined ? {} : {maxHeldDuringReplay: options.maxHeldDuringReplay}),
      ...(options.topicsPerClient === undefined ? {} : {topicsPerClient: options.topicsPerClient}),
      ...(options.commandRateLimit === undefined ? {} : {commandRateLimit: options.commandRateLimit}),
      ...(options.publishRateLimit === undefined ? {} : {publishRateLimit: options.publishRateLimit}),
    });
    this.#authenticate = options.endpoint?.authenticate;
    this.#endpoint = new HubEndpoint({...options.endpoint, path: HUB_PATH, handler: this.hub});
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#cors = new Cors(options.cors ?? {origins: []});
    this.#drills = options.drills ?? false;
    this.#staticDir = options.staticDir;
    this.#notBuilt = options.notBuilt ?? `Nothing to serve yet: ${options.staticDir ?? ''} does not exist. Build the pages into it, then reload.`;
    this.#writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.#metricsScope = options.metricsScope ?? 'metrics';
    this.#faults = new ClientFaultLog(this.logger.child({component: 'http'}));
    const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.#http = createServer(
      {
        // Node answers 408 and closes a request not received in full in time; it checks on an interval.
        requestTimeout: bodyTimeoutMs,
        headersTimeout: Math.min(60_000, bodyTimeoutMs),
        connectionsCheckingInterval: Math.max(50, Math.min(30_000, bodyTimeoutMs / 4)),
      },
      (req, res) => {
        this.#route(req, res).then(
          () => this.#dropUnread(res),
          (error: unknown) => {
            const fault = clientFault(error);
            if (fault !== undefined) {
              this.#faults.log(fault, {method: req.method, url: redactUrl(req.url), remoteAddress: req.socket.remoteAddress});
              if (!res.headersSent && !res.destroyed) sendJson(res, fault.status, {error: fault.message}, req.complete ? {} : {connection: 'close'});
              else res.destroy();
              return;
            }
            this.logger.error({err: error, url: redactUrl(req.url)}, 'request failed');
            if (!res.headersSent) sendJson(res, 500, {error: 'internal error'});
            else res.destroy();
          },
        );
      },
    );
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Browsers apply no CORS to WebSockets: refuse foreign pages here, or any site could ride a user's cookies.
      const origin = req.headers.origin;
      if (!this.#cors.hostAllowed(req.headers.host) || (origin !== undefined && !this.#cors.allows(origin, req.headers.host))) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#endpoint
        .handleUpgrade(req, socket, head, requestUrl(req))
        .then((handled) => {
          if (!handled) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        })
        .catch((error: unknown) => {
          this.logger.error({err: error, url: redactUrl(req.url)}, 'upgrade failed');
          socket.destroy();
        });
    });
  }

  /**
   * Adds HTTP routes of the application (read models, settings): `handler` answers a request and
   * returns true, or returns false to pass it on. Routes run after the hub and the topics API; those
   * under `/api/` are authenticated first (401 without a valid token when an authenticator is set),
   * and get the principal in their context.
   */
  addRoutes(handler: Route): void {
    this.#routes.push(handler);
  }

  /**
   * Adds a part to `GET /healthz` under `name` (a broker connection, say): its report is shown there,
   * and one with `ok: false` makes the status `degraded`.
   */
  addHealthCheck(name: string, check: () => HealthReport): void {
    this.#health.set(name, check);
  }

  /** Connects the engine, if any, then starts listening; resolves with the base URL. Port 0 picks a free port. */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    await this.#engine?.start(this.logger);
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
    this.#expiry.clear();
    this.hub.close();
    this.events.close();
    this.#endpoint.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.#engine?.close();
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!this.#cors.hostAllowed(req.headers.host) && url.pathname !== '/healthz') {
      req.resume();
      res.writeHead(403, {'content-type': 'text/plain; charset=utf-8'});
      res.end(`Blocked request: Host '${req.headers.host}' is not a name this server is reached by. Add it to PUBLIC_HOSTS (cors.publicHosts in code).`);
      return;
    }
    if (this.#cors.handle(req, res)) return;
    if (await this.#endpoint.handleRequest(req, res, url)) return;
    if (url.pathname === '/healthz') return sendJson(res, 200, this.#healthz());
    // Every door but liveness and the static pages needs the same proof as the hub.
    let principal: Principal | undefined;
    if (url.pathname.startsWith('/api/') || url.pathname === '/metrics') {
      const who = await this.#principal(req, url);
      if (who === null) {
        req.resume(); // drain an unread body, so the client reads the 401 rather than a reset
        return sendJson(res, 401, {error: 'a valid access token is required: send Authorization: Bearer <token>'}, {'www-authenticate': 'Bearer'});
      }
      principal = who;
    }
    if (url.pathname === '/metrics' && this.#authenticate !== undefined && !hasScope(principal, this.#metricsScope)) {
      return sendJson(res, 403, {error: `Forbidden: /metrics needs a token with the "${this.#metricsScope}" scope.`});
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, {'content-type': this.metrics.registry.contentType});
      res.end(text);
      return;
    }
    if (await handleTopicsApi(req, res, url, this.events, {maxBodyBytes: this.#maxBodyBytes, principal, appender: clientAppender('http', principal, req.socket.remoteAddress)})) return;
    const drill = /^\/api\/connections\/([^/]+)\/drop$/.exec(url.pathname);
    if (drill !== null && req.method === 'POST' && this.#drills) {
      if (this.#authenticate !== undefined && !hasScope(principal, 'drills')) {
        return sendJson(res, 403, {error: 'Forbidden: drills need a token with the "drills" scope.'});
      }
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
    for (const route of this.#routes) if (await route(req, res, url, {principal})) return;
    if (this.#staticDir !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      // Made on first use once the folder exists, so a build finished after start is served.
      if (this.#static === undefined && existsSync(this.#staticDir)) this.#static = staticFiles(this.#staticDir);
      if (this.#static === undefined && !url.pathname.startsWith('/api/')) {
        res.writeHead(404, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store'});
        res.end(`${this.#notBuilt}\n`);
        return;
      }
      if (this.#static !== undefined) return this.#static(req, res, () => sendJson(res, 404, {error: 'not found'}));
    }
    sendJson(res, 404, {error: 'not found'});
  }

  /** Drops a finished answer the client has not taken within the write timeout (it stops reading). */
  #dropUnread(res: ServerResponse): void {
    if (!res.writableEnded || res.writableFinished || res.destroyed) return;
    const timer = setTimeout(() => res.destroy(), this.#writeTimeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
  }

  #healthz(): Record<string, unknown> {
    const parts: Record<string, HealthReport> = {};
    for (const [name, check] of this.#health) parts[name] = check();
    const ok = Object.values(parts).every((p) => p.ok);
    return {status: ok ? 'ok' : 'degraded', connections: this.hub.connectionCount, transports: this.hub.connectionsByTransport(), ...parts};
  }

  /** The principal of an HTTP request: undefined when anonymous, null when refused. */
  async #principal(req: IncomingMessage, url: URL): Promise<Principal | null | undefined> {
    if (this.#authenticate === undefined) return undefined;
    try {
      return await this.#authenticate({url, headers: req.headers, token: accessToken(url, req.headers)});
    } catch {
      return null;
    }
  }
}

function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://localhost');
}
