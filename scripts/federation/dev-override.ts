/**
 * One app served from source by Vite, for a deployed page to load through a local override
 * (`?sb-override=<app>=http://127.0.0.1:5174/src/index.ts`). Three things make that work:
 *
 * - the shared packages (lit, zod, the kit, …) stay the page's: the app's bare imports of them are
 *   answered by tiny modules that re-export the same bare name, which the page's import map
 *   resolves. Vite would otherwise serve its own copies, and two Lits mean two sets of classes
 *   (`instanceof` fails, elements miss the shell's bus context);
 * - the page is told of edits: the app's entry imports Vite's client, which connects back to this
 *   server (it uses its own URL, not the page's) and reloads the page when a file changes;
 * - the page's origin may load from it: loopback origins by default (Vite's own default), others
 *   named with `origins`.
 */
import {realpathSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {InlineConfig, Plugin, ViteDevServer} from 'vite';
import {sourceConditions} from '../../vite.config';
import {SHARED, sharedHasDefault} from './build-shared';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the re-exporting modules of the shared packages are served: `/@switchboard-shared/lit.js`. */
export const SHARED_PATH = '/@switchboard-shared/';

/** Page origins Vite's dev server allows by default: this machine's. */
export const LOOPBACK_ORIGIN = /^https?:\/\/(?:(?:[^:]+\.)?localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(?::\d+)?$/;

const isShared = (name: string): boolean => (SHARED as readonly string[]).includes(name);

/** The module standing in for shared package `name`: the same bare import, for the page's import map. */
export function sharedShim(name: string): string {
  const spec = JSON.stringify(name);
  return `export * from ${spec};\n${sharedHasDefault(name) ? `export {default} from ${spec};\n` : ''}`;
}

function originOf(server: ViteDevServer): string {
  const address = server.httpServer?.address();
  if (address === null || address === undefined || typeof address === 'string') throw new Error('the dev server is not listening on a port');
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${server.config.server.https ? 'https' : 'http'}://${host}:${address.port}`;
}

/**
 * Keeps the shared packages the page's: an import of one resolves to this server's
 * `/@switchboard-shared/<name>.js` (an absolute URL, which Vite leaves as it is), whose body
 * imports `<name>` by bare name again, so the page's import map decides where it comes from.
 */
export function sharedFromPage(): Plugin {
  let server: ViteDevServer | undefined;
  return {
    name: 'switchboard:shared-from-page',
    apply: 'serve',
    enforce: 'pre',
    configureServer(s) {
      server = s;
      s.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]!;
        if (!path.startsWith(SHARED_PATH)) return next();
        const name = decodeURIComponent(path.slice(SHARED_PATH.length)).replace(/\.js$/, '');
        // A shim carries no source: any page may load it.
        res.setHeader('access-control-allow-origin', '*');
        if (!isShared(name)) {
          res.statusCode = 404;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(`${name} is not a shared package`);
          return;
        }
        res.setHeader('content-type', 'text/javascript; charset=utf-8');
        res.setHeader('cache-control', 'no-cache');
        res.end(sharedShim(name));
      });
    },
    resolveId(source) {
      if (!isShared(source) || server === undefined) return null;
      return {id: `${originOf(server)}${SHARED_PATH}${source}.js`, external: true};
    },
  };
}

/**
 * Puts Vite's client into the app's entry module. A page that is not Vite's own gets no client from
 * an HTML transform; through the entry, the client loads from this server, connects its socket
 * here and reloads the page on an edit.
 */
export function viteClientInEntry(entry: string): Plugin {
  const file = realpathSync(entry).replace(/\\/g, '/');
  return {
    name: 'switchboard:vite-client-in-entry',
    apply: 'serve',
    transform(code, id) {
      if (id.split('?')[0] !== file) return null;
      // On the first line, so the source map's lines still match.
      return {code: `import '/@vite/client';${code}`, map: null};
    },
  };
}

/** Options of {@link devOverrideConfig}. */
export interface DevOverrideOptions {
  /** The app's folder (its entry is `src/index.ts`); default `apps/<app>` of this repository. */
  readonly dir: string;
  /** Default 5174 (the shell's `npm run dev` has 5173); 0 picks a free one. */
  readonly port?: number;
  /** Page origins allowed besides loopback ones, e.g. `https://staging.shop.example`. */
  readonly origins?: readonly string[];
}

/** The Vite configuration serving one app's source for overrides. */
export function devOverrideConfig(options: DevOverrideOptions): InlineConfig {
  const dir = resolve(options.dir);
  return {
    configFile: false,
    root: dir,
    publicDir: false,
    appType: 'custom',
    clearScreen: false,
    plugins: [sharedFromPage(), viteClientInEntry(resolve(dir, 'src/index.ts'))],
    resolve: {conditions: sourceConditions},
    // The shared packages come from the page, so there is nothing worth pre-bundling.
    optimizeDeps: {noDiscovery: true, include: []},
    // JSX compiles to react/jsx-runtime, which the page shares (react/jsx-dev-runtime it does not have).
    oxc: {jsx: {runtime: 'automatic', development: false}},
    define: {'process.env.NODE_ENV': JSON.stringify('development')},
    server: {
      host: '127.0.0.1',
      port: options.port ?? 5174,
      cors: {origin: [LOOPBACK_ORIGIN, ...(options.origins ?? [])]},
      // The kit's sources (the packages this app imports that are not shared) live in the repository.
      fs: {allow: [root, dir]},
    },
  };
}
