import type {IncomingMessage, ServerResponse} from 'node:http';

/** Which other origins may call the server from a browser (the hub, the API, the app bundles). */
export interface CorsOptions {
  /** Exact origins such as `https://shop.example`, or `*` for any (still echoed, never a literal `*`). */
  readonly origins: readonly string[] | '*';
}

/**
 * Cross-origin access with credentials, as the official SignalR browser client needs: it sends
 * cookies and the `X-Requested-With` and `X-SignalR-User-Agent` headers, so every answer to an
 * allowed origin echoes that exact origin with `Access-Control-Allow-Credentials: true`, and
 * preflights are answered here.
 */
export class Cors {
  readonly #origins: ReadonlySet<string> | '*';

  constructor(options: CorsOptions) {
    this.#origins = options.origins === '*' ? '*' : new Set(options.origins.map((o) => o.replace(/\/+$/, '')));
  }

  /** Whether `origin` may call; a page of the server's own origin always may. */
  allows(origin: string, host: string | undefined): boolean {
    if (this.#origins === '*' || this.#origins.has(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /**
   * Adds CORS headers for an allowed origin and answers preflights. Returns true when the request
   * was answered (a preflight) and needs no further handling.
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
