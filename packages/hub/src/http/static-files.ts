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
  /**
   * Look every request's file up on disk (one `stat`), so a file changed or added under a running
   * server (a rebuild, a deploy) is served whole with its new length and ETag. Default true; false
   * lists the folder once at start (a little less work per request, but rebuild means restart).
   */
  readonly fresh?: boolean;
}

/** A request handler for static files; `next` runs when no file matches. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Serves a built folder as a production web server does: a precompressed `.br` or `.gz` sibling
 * (see {@link precompress}) when the client accepts it, with `Vary: Accept-Encoding`; ETags and
 * `304 Not Modified`; content-hashed paths `immutable`, all others `no-cache` (revalidated).
 * Each request looks its file up on disk, so a rebuild or a deploy under a running server is
 * served as it is now, never a stale length or ETag (see {@link StaticFilesOptions.fresh}).
 *
 * ```ts
 * await precompress('dist');                 // at build time
 * const files = staticFiles('dist');         // at run time
 * ```
 */
export function staticFiles(dir: string, options: StaticFilesOptions = {}): StaticHandler {
  const immutable = options.immutable ?? ((pathname: string) => pathname.startsWith('/assets/'));
  const serve = sirv(dir, {
    etag: true,
    dev: options.fresh ?? true,
    gzip: true,
    brotli: true,
    setHeaders: (res, pathname) => {
      res.setHeader('Cache-Control', immutable(pathname) ? IMMUTABLE : REVALIDATE);
      // sirv calls this just before it writes the status and pipes the file (and only then).
      answerVanishedFiles(res as ServerResponse);
    },
  });
  // Looked up per request, dotfiles (build bookkeeping) would be served too: they are not.
  return (req, res, next) => (/(^|\/)\./.test(decodePath(req.url ?? '/')) ? next() : serve(req, res, next));
}

/**
 * A file removed after it was found (a rebuild, a deploy, a hand; or, with `fresh: false`, after
 * the folder was listed) fails to open after sirv wrote its status line, on a stream nobody listened to for errors: that ended the
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
    boundToLength(source as Readable & {start?: number; end?: number}, held?.[1]);
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

/**
 * sirv sends `Content-Length` from the file's `stat` and then streams the file to its end. A file
 * that grows in between (a deploy writing it in place) sent more bytes than announced, which a
 * keep-alive client read as the start of its next response ("Parse Error: Expected HTTP/"). The
 * stream now stops at the announced length. (A file that shrank ends the response short, and Node
 * closes that connection itself: tested.)
 */
function boundToLength(source: Readable & {start?: number; end?: number}, headers: OutgoingHttpHeaders | undefined): void {
  const length = Number(headers?.['Content-Length'] ?? headers?.['content-length']);
  // Set before the first read (the pipe starts reading once the file is open); a range has its end.
  if (Number.isSafeInteger(length) && source.end === Number.POSITIVE_INFINITY) source.end = (source.start ?? 0) + length - 1;
}

function decodePath(url: string): string {
  const path = url.split('?')[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
