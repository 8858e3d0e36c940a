import {readFile} from 'node:fs/promises';
import {resolve} from 'node:path';
import type {Route} from '@switchboard/hub';

/** Path prefixes that are never the shell's pages: the hub, the APIs, built files. */
const NOT_PAGES = ['/api/', '/hubs/', '/auth/', '/apps/', '/assets/', '/alone/', '/catalog/'];

/**
 * Deep links: a browser asking for a page at a path with no file (`/ops`, `/shipments/o-1`, or a
 * path no route knows, which the shell answers with its 404 content) gets the shell's page, whose
 * router renders that path. `/` itself is the static `index.html`.
 */
export function shellPages(staticDir: string): Route {
  const page = resolve(staticDir, 'index.html');
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname;
    if (path === '/' || /\.[A-Za-z0-9]+$/.test(path) || NOT_PAGES.some((p) => path.startsWith(p))) return false;
    if (!(req.headers.accept ?? '').includes('text/html')) return false;
    let html: Buffer;
    try {
      html = await readFile(page);
    } catch {
      return false;
    }
    res.writeHead(200, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-length': html.length});
    res.end(req.method === 'HEAD' ? undefined : html);
    return true;
  };
}
