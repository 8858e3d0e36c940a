/**
 * Servers that tests start as child processes (a victim under attack, a demo node killed and
 * restarted), bundled once per test run. Started through `tsx`, each process compiles and resolves
 * every module of the kit again: seconds per start on a busy machine, and some tests start dozens.
 * The bundle holds the repository's own code (the kit's packages from source, as the
 * `switchboard-source` condition gives them); dependencies stay imports of node_modules.
 */
import {existsSync, mkdirSync, renameSync, writeFileSync} from 'node:fs';
import {isBuiltin} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {build, type Plugin} from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where bundles go: two levels under the repository root, like `server/src/`, so code that finds the
 * repository from its own URL (the demo's `dist/` and data directory) finds the same place, and bare
 * imports resolve from the root's node_modules.
 */
export const BUNDLE_DIR = join(root, 'node_modules', '.switchboard-test');

/** The environment variable naming (comma-separated) the test servers this run bundled into {@link BUNDLE_DIR}. */
const READY = 'SWITCHBOARD_TEST_BUNDLES';

/**
 * Each test server by name: its entry module, relative to the repository root, and where the kit's
 * packages come from: `source` (the `switchboard-source` condition, as Vitest and `npm start` use
 * them) or `dist` (their built output, as a server started without the condition loads them).
 */
export const TEST_SERVERS = {
  /** The hostile tests' server under attack. */
  'victim-server': {entry: 'packages/hub/test/hostile/victim-server.ts', kit: 'source'},
  /** A hub in its own process (body limits over real TCP). */
  'child-server': {entry: 'packages/hub/test/child-server.ts', kit: 'source'},
  /** The demo's server, as `npm start` runs it. */
  'demo-server': {entry: 'server/src/main.ts', kit: 'source'},
  /** The demo's server on the built packages (e2e's own servers, `node --import tsx server/src/main.ts`). */
  'demo-server-dist': {entry: 'server/src/main.ts', kit: 'dist'},
  /** The shop's services on their own (`npm run services`), on the kit's sources (the RabbitMQ shop tests' processes). */
  services: {entry: 'server/src/services-main.ts', kit: 'source'},
  /** A hub node on Redis with a RabbitMQ ingest binding (the bridge's kill -9 tests). */
  'rabbitmq-hub-node': {entry: 'packages/rabbitmq/test/hub-node.ts', kit: 'source'},
  /** The shop's services on their own (`npm run services`), on the built packages. */
  'services-dist': {entry: 'server/src/services-main.ts', kit: 'dist'},
  /** The e2e page of another origin that embeds the demo's apps. */
  'fixture-server': {entry: 'e2e/fixture-server.ts', kit: 'source'},
  /** The e2e run's redis-server (AOF on, removed at SIGTERM). */
  'redis-server': {entry: 'e2e/redis-server.ts', kit: 'source'},
  /** The registry's `switchboard` CLI: it runs only when its file is named like its source (`cli/main.js`). */
  'registry-cli': {entry: 'packages/registry/src/cli/main.ts', kit: 'source', file: 'registry-cli/cli/main.js'},
} as const satisfies Record<string, {entry: string; kit: 'source' | 'dist'; file?: string}>;

/** Where test server `name`'s bundle goes, relative to {@link BUNDLE_DIR}. */
function bundleFile(name: TestServer): string {
  const server: {entry: string; file?: string} = TEST_SERVERS[name];
  return server.file ?? `${name}.mjs`;
}

/** The name of a test server. */
export type TestServer = keyof typeof TEST_SERVERS;

/** What Vitest's tests start; the others are Playwright's (some need the build's dist/, which Vitest does not). */
const VITEST_SERVERS: readonly TestServer[] = ['victim-server', 'child-server', 'demo-server', 'services', 'rabbitmq-hub-node'];

/**
 * Keeps every dependency but the kit's own packages external, imported by the absolute path it has
 * from the importing file: a package may have its own copy of a dependency in a nested
 * node_modules (another version than the root's), and the bundle must load that copy.
 */
const dependenciesExternal: Plugin = {
  name: 'dependencies-external',
  setup(build) {
    build.onResolve({filter: /^[^./]/}, async (args) => {
      if (args.path.startsWith('@switchboard/') || args.pluginData === 'dependencies-external') return undefined;
      if (isBuiltin(args.path)) return {path: args.path, external: true};
      const found = await build.resolve(args.path, {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'dependencies-external'});
      return found.errors.length > 0 ? {errors: found.errors} : {path: found.path, external: true};
    });
  },
};

/**
 * Bundles test servers `names` (by default those Vitest's tests start) into {@link BUNDLE_DIR} and
 * marks them ready for this process and the test processes it starts (Vitest's global setup and the
 * Playwright config call it).
 */
export async function bundleTestServers(names: readonly TestServer[] = VITEST_SERVERS): Promise<void> {
  mkdirSync(BUNDLE_DIR, {recursive: true});
  // A temporary name first: a run in progress elsewhere never starts half a file.
  const suffix = `.${process.pid}.tmp`;
  for (const kit of ['source', 'dist'] as const) {
    const wanted = names.filter((name) => TEST_SERVERS[name].kit === kit);
    if (wanted.length === 0) continue;
    // A `.js` bundle (the CLI's) is an ES module by the package.json beside it.
    for (const name of wanted.filter((n) => bundleFile(n).endsWith('.js'))) {
      mkdirSync(dirname(join(BUNDLE_DIR, bundleFile(name))), {recursive: true});
      writeFileSync(join(dirname(join(BUNDLE_DIR, bundleFile(name))), 'package.json'), '{"type": "module"}\n');
    }
    await build({
      entryPoints: wanted.map((name) => ({in: join(root, TEST_SERVERS[name].entry), out: `${bundleFile(name).replace(/\.m?js$/, '')}${suffix}`})),
      outdir: BUNDLE_DIR,
      outExtension: {'.js': '.mjs'},
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: kit === 'source' ? ['switchboard-source'] : [],
      plugins: [dependenciesExternal],
      logLevel: 'warning',
    });
  }
  for (const name of names) renameSync(join(BUNDLE_DIR, `${bundleFile(name).replace(/\.m?js$/, '')}${suffix}.mjs`), join(BUNDLE_DIR, bundleFile(name)));
  const ready = new Set([...(process.env[READY] ?? '').split(',').filter((n) => n !== ''), ...names]);
  process.env[READY] = [...ready].join(',');
}

/**
 * The Node arguments that start test server `name`: its bundle when this run made one, else its
 * source through `tsx` (a test started outside Vitest's setup or the Playwright config).
 *
 * ```ts
 * spawn(process.execPath, ['--expose-gc', ...testServerArgs('victim-server'), JSON.stringify(options)]);
 * ```
 */
export function testServerArgs(name: TestServer): string[] {
  const bundle = join(BUNDLE_DIR, bundleFile(name));
  if ((process.env[READY] ?? '').split(',').includes(name) && existsSync(bundle)) return [bundle];
  const {entry, kit} = TEST_SERVERS[name];
  return [...(kit === 'source' ? ['--conditions=switchboard-source'] : []), '--import', 'tsx', join(root, entry)];
}

/** Vitest's global setup (vitest.config.ts): the bundles are ready before any test file starts. */
export const setup = (): Promise<void> => bundleTestServers();
