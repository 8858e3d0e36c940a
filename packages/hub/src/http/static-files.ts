import type {IncomingMessage, OutgoingHttpHeaders, ServerResponse} from 'node:http';
import type {Readable} from 'node:stream';
import sirv from 'sirv';

/** `Cache-Control` of content-hashed files: a new version has a new name, so keep this one forever. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `Cache-Control` of everything else (HTML, the manifest, stable app URLs): revalidate with the ETag each time. */
export const REVALIDATE = 'no-cache';

/** Options of {@link staticFiles}. */
export interface StaticFilesOptions {
  /**
   * Which request paths are content-hashed and may be cached for good; by default everything under
   * `/assets/`, where Vite (and this project's build) put hashed files.
   */
  readonly immutable?: (pathname: string) => boolean;
}

/** A request handler for static files; `next` runs when no file matches. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Serves a built folder as a production web server does: a precompressed `.br` or `.gz` sibling
 * (see {@link precompress}) when the client accepts it, with `Vary: Accept-Encoding`; ETags and
 * `304 Not Modified`; content-hashed paths `immutable`, all others `no-cache` (revalidated).
 * The folder is listed once at start: rebuild, then restart.
 *
 * ```ts
 * await precompress('dist');                 // at build time
 * const files = staticFiles('dist');         // at run time
 * ```
 */
export function staticFiles(dir: string, options: StaticFilesOptions = {}): StaticHandler {
  const immutable = options.immutable ?? ((pathname: string) => pathname.startsWith('/assets/'));
  return sirv(dir, {
    etag: true,
    dev: false,
    gzip: true,
    brotli: true,
    setHeaders: (res, pathname) => {
      res.setHeader('Cache-Control', immutable(pathname) ? IMMUTABLE : REVALIDATE);
      // sirv calls this just before it writes the status and pipes the file (and only then).
      answerVanishedFiles(res as ServerResponse);
    },
  });
}

/**
 * The folder is listed once, so a file removed since (a rebuild, a deploy, a hand) fails to open
 * after sirv wrote its status line, on a stream nobody listened to for errors: that ended the
 * process. Here the status line waits for the file to open; a file that does not answers 404, kept
 * by no cache. An error once bytes went out can only cut that response.
 */
function answerVanishedFiles(res: ServerResponse): void {
  const writeHead = res.writeHead;
  let held: [number, OutgoingHttpHeaders | undefined] | undefined;
  res.writeHead = function (this: ServerResponse, status: number, headers?: OutgoingHttpHeaders) {
    res.writeHead = writeHead;
    held = [status, headers];
    return this;
  } as ServerResponse['writeHead'];
  res.once('pipe', (source: Readable) => {
    source.once('open', () => {
      if (held !== undefined) res.writeHead(...held);
      held = undefined;
    });
    source.once('error', (error) => {
      source.unpipe(res);
      if (held === undefined) return void res.destroy(error);
      held = undefined;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(404, {'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store'});
      res.end(JSON.stringify({error: 'not found'}));
    });
  });
}
