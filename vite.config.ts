import {readdirSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {defaultClientConditions, defineConfig, type Plugin, type UserConfig} from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Inside this repository the kit's packages resolve to their TypeScript sources (the
 * `switchboard-source` export condition), so Vite needs no prior `tsc` build and edits hot-reload.
 * Installed from npm, the same packages resolve to `dist/`.
 */
export const sourceConditions = ['switchboard-source', ...defaultClientConditions];

/** Where the build goes: the shell at `dist/`, each app's standalone module at `dist/apps/<name>.js`. */
export const outDir = resolve(root, 'dist');

/** Every micro frontend: one folder under `apps/`, its entry `src/index.ts`. */
export function appNames(): string[] {
  return readdirSync(resolve(root, 'apps'), {withFileTypes: true})
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * One app as one self-contained ES module (Lit, zod, the kit and the SignalR client inside), so a
 * page embeds it with a single `<script type="module">` and nothing else.
 */
export function standaloneApp(name: string): UserConfig {
  return {
    configFile: false,
    root,
    publicDir: false,
    logLevel: 'warn',
    resolve: {conditions: sourceConditions},
    // React reads process.env.NODE_ENV; a library build leaves it for a bundler that never comes.
    define: {'process.env.NODE_ENV': JSON.stringify('production')},
    build: {
      outDir: resolve(outDir, 'apps'),
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      // Library builds keep whitespace by default (for pure annotations); these modules go straight to browsers.
      minify: true,
      rolldownOptions: {output: {minify: true}},
      lib: {entry: resolve(root, 'apps', name, 'src/index.ts'), formats: ['es'], fileName: () => `${name}.js`},
    },
  } as UserConfig;
}

/** Where `npm run dev` forwards the hub and the API: the server on `PORT` (default 8080). */
const serverUrl = `http://127.0.0.1:${process.env['PORT'] ?? 8080}`;

/**
 * In `npm run dev`, an app's module URL (`/apps/<name>.js`, as the manifest names it) is answered
 * with a redirect to the app's TypeScript entry, which Vite serves from source: editing an app
 * reloads the page like editing the shell does.
 */
export function appsFromSource(): Plugin {
  return {
    name: 'switchboard:apps-from-source',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const match = /^\/apps\/([a-z][a-z0-9-]*)\.js(\?.*)?$/.exec(req.url ?? '');
        if (match === null || !appNames().includes(match[1]!)) return next();
        res.statusCode = 302;
        res.setHeader('location', `/@fs${resolve(root, 'apps', match[1]!, 'src/index.ts')}`);
        res.end();
      });
    },
  };
}

/**
 * The shell: a page that bundles the bus, the hub bridge and every app, splitting code as usual.
 * `npm run dev` serves it with hot reload (Vite's own port, 5173 unless taken), the apps from
 * their sources too, and forwards `/hubs` (WebSockets included), `/api` and `/auth` to a server
 * started beside it with `npm start` (or `npm run serve`) on `PORT`.
 */
export default defineConfig({
  root: resolve(root, 'shell'),
  plugins: [appsFromSource()],
  resolve: {conditions: sourceConditions},
  build: {outDir, emptyOutDir: true, target: 'es2022', sourcemap: true},
  server: {
    proxy: {
      '/hubs': {target: serverUrl, ws: true},
      '/api': serverUrl,
      '/auth': serverUrl,
    },
  },
});
