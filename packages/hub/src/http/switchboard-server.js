import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { pino } from 'pino';
import sirv from 'sirv';
import { EventService } from '../events/event-service';
import { Hub } from '../hub';
import { MemoryTopicLog } from '../log/topic-log';
import { HubEndpoint } from '../transports/hub-endpoint';
import { Cors } from './cors';
import { Metrics } from './metrics';
import { sendJson } from './respond';
import { handleTopicsApi } from './topics-api';
/** Where the events hub is served. */
export const HUB_PATH = '/hubs/events';
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
    hub;
    events;
    metrics;
    logger;
    #http;
    #endpoint;
    #static;
    #maxBodyBytes;
    #cors;
    #drills;
    #routes = [];
    constructor(options) {
        this.logger = options.logger ?? pino({ level: process.env['LOG_LEVEL'] ?? 'info' });
        this.hub = new Hub({ ...options.hub, logger: this.logger.child({ component: 'hub' }) });
        const log = options.log ?? new MemoryTopicLog();
        this.metrics = new Metrics(this.hub, log);
        this.events = new EventService({
            hub: this.hub,
            log,
            registry: options.registry,
            logger: this.logger.child({ component: 'events' }),
            observer: this.metrics,
            ...(options.topics === undefined ? {} : { topics: options.topics }),
        });
        this.#endpoint = new HubEndpoint({ ...options.endpoint, path: HUB_PATH, handler: this.hub });
        this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
        this.#cors = new Cors(options.cors ?? { origins: [] });
        this.#drills = options.drills ?? false;
        const dir = options.staticDir;
        this.#static = dir !== undefined && existsSync(dir) ? sirv(dir, { etag: true, dev: false }) : undefined;
        this.#http = createServer((req, res) => {
            this.#route(req, res).catch((error) => {
                this.logger.error({ err: error, url: req.url }, 'request failed');
                if (!res.headersSent)
                    sendJson(res, 500, { error: 'internal error' });
                else
                    res.destroy();
            });
        });
        this.#http.on('upgrade', (req, socket, head) => {
            // Browsers apply no CORS to WebSockets: refuse foreign pages here, or any site could ride a user's cookies.
            const origin = req.headers.origin;
            if (origin !== undefined && !this.#cors.allows(origin, req.headers.host)) {
                socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
                return;
            }
            this.#endpoint
                .handleUpgrade(req, socket, head, requestUrl(req))
                .then((handled) => {
                if (!handled)
                    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
            })
                .catch((error) => {
                this.logger.error({ err: error, url: req.url }, 'upgrade failed');
                socket.destroy();
            });
        });
    }
    /**
     * Adds HTTP routes of the application (read models, settings): `handler` answers a request and
     * returns true, or returns false to pass it on. Routes run after the hub and the topics API.
     */
    addRoutes(handler) {
        this.#routes.push(handler);
    }
    /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
    listen(port, host = '127.0.0.1') {
        return new Promise((resolve, reject) => {
            this.#http.once('error', reject);
            this.#http.listen(port, host, () => {
                this.#http.off('error', reject);
                const address = this.#http.address();
                const shown = host === '127.0.0.1' || host === '::1' || host === '::' || host === '0.0.0.0' ? 'localhost' : host;
                resolve(`http://${shown}:${address.port}`);
            });
        });
    }
    /** The bound port, once listening. */
    get port() {
        return this.#http.address().port;
    }
    /** Closes every hub connection (each client gets a Close message) and stops listening. */
    async close() {
        this.hub.close();
        this.#endpoint.close();
        await new Promise((resolve) => {
            this.#http.close(() => resolve());
            this.#http.closeAllConnections();
        });
    }
    async #route(req, res) {
        const url = requestUrl(req);
        if (this.#cors.handle(req, res))
            return;
        if (await this.#endpoint.handleRequest(req, res, url))
            return;
        if (url.pathname === '/healthz')
            return sendJson(res, 200, { status: 'ok', connections: this.hub.connectionCount, transports: this.hub.connectionsByTransport() });
        if (url.pathname === '/metrics' && req.method === 'GET') {
            const text = await this.metrics.registry.metrics();
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(text);
            return;
        }
        if (await handleTopicsApi(req, res, url, this.events, { maxBodyBytes: this.#maxBodyBytes }))
            return;
        const drill = /^\/api\/connections\/([^/]+)\/drop$/.exec(url.pathname);
        if (drill !== null && req.method === 'POST' && this.#drills) {
            const c = this.hub.connection(decodeURIComponent(drill[1]));
            if (c === undefined || c.phase !== 'open')
                return sendJson(res, 404, { error: 'no such connection' });
            const mode = url.searchParams.get('mode') ?? 'abort';
            if (mode === 'reconnect')
                this.hub.closeConnection(c, 'Drill: the server closed this connection.', true);
            else if (mode === 'abort')
                c.abortTransport();
            else
                return sendJson(res, 400, { error: 'mode must be abort or reconnect' });
            return sendJson(res, 202, { dropped: c.connectionId, mode });
        }
        const connection = /^\/api\/connections\/([^/]+)$/.exec(url.pathname);
        if (connection !== null && req.method === 'GET') {
            // The connection id is public in SignalR (the token is the secret); say only how it is connected.
            const c = this.hub.connection(decodeURIComponent(connection[1]));
            if (c === undefined || c.phase !== 'open')
                return sendJson(res, 404, { error: 'no such connection' });
            return sendJson(res, 200, { connectionId: c.connectionId, transport: c.transport, protocol: c.protocol?.name ?? null });
        }
        for (const route of this.#routes)
            if (await route(req, res, url))
                return;
        if (this.#static !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
            this.#static(req, res, () => sendJson(res, 404, { error: 'not found' }));
            return;
        }
        sendJson(res, 404, { error: 'not found' });
    }
}
function requestUrl(req) {
    return new URL(req.url ?? '/', 'http://localhost');
}
