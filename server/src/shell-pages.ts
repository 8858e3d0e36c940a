import type {IncomingMessage} from 'node:http';

/** Path prefixes that are never the shell's pages: the hub, the APIs, built files. */
const NOT_PAGES = ['/api/', '/hubs/', '/auth/', '/apps/', '/assets/', '/alone/', '/catalog/', '/deploys/'];

/**
 * Deep links: a browser asking for a page at a path with no file (`/ops`, `/shipments/o-1`, or a
 * path no route knows, which the shell answers with its 404 content) gets the shell's page, composed
 * like `/` by the deploy registry, and the shell's router renders that path.
 */
export function isShellDeepLink(req: IncomingMessage, url: URL): boolean {
  const path = url.pathname;
  if (path === '/' || /\.[A-Za-z0-9]+$/.test(path) || NOT_PAGES.some((p) => path.startsWith(p))) return false;
  return (req.headers.accept ?? '').includes('text/html');
}
