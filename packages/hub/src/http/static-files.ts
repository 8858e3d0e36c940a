import type {IncomingMessage, ServerResponse} from 'node:http';
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
    setHeaders: (res, pathname) => res.setHeader('Cache-Control', immutable(pathname) ? IMMUTABLE : REVALIDATE),
  });
}
