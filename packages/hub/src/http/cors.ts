import type {IncomingMessage, ServerResponse} from 'node:http';
import {isIP} from 'node:net';

/** Which other origins may call the server from a browser (the hub, the API, the app bundles). */
export interface CorsOptions {
  /** Exact origins such as `https://shop.example`, or `*` for any (still echoed, never a literal `*`). */
  readonly origins: readonly string[] | '*';
  /**
   * The names the server is reached by (`shop.example`, `shop.example:8443`): a page whose origin
   * matches the request's `Host` counts as same-origin only when that Host is one of these, so a
   * rebound DNS name (`Host: evil.example`, `Origin: http://evil.example`) is refused. A name
   * without a port matches any port. Default: `localhost`, `127.0.0.1`, `[::1]`.
   *
   * The same list guards every request, with or without `Origin` (see {@link Cors.hostAllowed}): a
   * request whose `Host` is another name is refused. `['*']` accepts any Host (then only the
   * `Origin` checks remain).
   */
  readonly publicHosts?: readonly string[];
}

/** Loopback names: the default public hosts. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Cross-origin access with credentials, as the official SignalR browser client needs: it sends
 * cookies and the `X-Requested-With` and `X-SignalR-User-Agent` headers, so every answer to an
 * allowed origin echoes that exact origin with `Access-Control-Allow-Credentials: true`, and
 * preflights are answered here.
 */
export class Cors {
  readonly #origins: ReadonlySet<string> | '*';
  readonly #hosts: readonly string[];

  constructor(options: CorsOptions) {
    this.#origins = options.origins === '*' ? '*' : new Set(options.origins.map((o) => o.replace(/\/+$/, '')));
    this.#hosts = (options.publicHosts ?? LOOPBACK_HOSTS).map((h) => h.toLowerCase());
  }

  /**
   * Whether `origin` may call: a configured origin, or the server's own origin when `host` (the
   * request's Host header) is one of the public hosts.
   */
  allows(origin: string, host: string | undefined): boolean {
    if (this.#origins === '*' || this.#origins.has(origin)) return true;
    if (host === undefined || !this.isPublicHost(host)) return false;
    try {
      return new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  }

  /**
   * Whether a request with this `Host` header may be served at all. A page on a rebound DNS name
   * (`evil.example` resolving to this server) reads same-origin GETs without sending `Origin`, so
   * the Host is what gives it away: allowed are the public hosts, the loopback names and IP
   * literals (a rebinding attacker's page always has a name of its own), as Vite's dev server does
   * with `server.allowedHosts`. A request without Host (HTTP/1.0) has no name to rebind.
   */
  hostAllowed(host: string | undefined): boolean {
    if (host === undefined || this.#hosts.includes('*') || this.isPublicHost(host)) return true;
    const name = hostName(host.toLowerCase());
    return LOOPBACK_HOSTS.includes(name) || isIP(name.replace(/^\[|\]$/g, '')) !== 0;
  }

  /** Whether `host` (a Host header: name, optional port) is a name the server is reached by. */
  isPublicHost(host: string): boolean {
    const lower = host.toLowerCase();
    const name = hostName(lower);
    return this.#hosts.some((h) => h === lower || h === name);
  }

  /**
   * Adds CORS headers for an allowed origin, answers preflights, and refuses any other method than
   * GET/HEAD from a foreign origin. Returns true when the request was answered and needs no further
   * handling.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const allowed = this.allows(origin, req.headers.host);
    if (allowed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    if (!allowed && req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
      // A "simple" cross-origin POST (form content type) needs no preflight, so the browser sends it
      // and only hides the answer: refuse it here, before it changes anything (a drill, an ingest).
      req.resume();
      res.writeHead(403, {'content-type': 'text/plain; charset=utf-8'}).end(`Origin ${origin} is not allowed.`);
      return true;
    }
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
    if (!allowed) {
      res.writeHead(403, {'content-type': 'text/plain; charset=utf-8'}).end(`Origin ${origin} is not allowed.`);
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }
}

/** The name part of a Host header (`[::1]` for `[::1]:8080`, `shop.example` for `shop.example:443`). */
function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}
