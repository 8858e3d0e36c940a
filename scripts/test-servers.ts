/**
 * Servers that tests start as child processes (a victim under attack, a demo node killed and
 * restarted), bundled once per test run. Started through `tsx`, each process compiles and resolves
 * every module of the kit again: seconds per start on a busy machine, and some tests start dozens.
 * The bundle holds the repository's own code (the kit's packages from source, as the
 * `switchboard-source` condition gives them); dependencies stay imports of node_modules.
 */
import {existsSync, mkdirSync, renameSync} from 'node:fs';
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

/** The environment variable that tells tests the bundles of this run are ready in {@link BUNDLE_DIR}. */
const READY = 'SWITCHBOARD_TEST_BUNDLES';

/** Each test server by name: its entry module, relative to the repository root. */
export const TEST_SERVERS = {
  /** The hostile tests' server under attack. */
  'victim-server': 'packages/hub/test/hostile/victim-server.ts',
  /** A hub in its own process (body limits over real TCP). */
  'child-server': 'packages/hub/test/child-server.ts',
  /** The demo's server, as `npm start` runs it. */
  'demo-server': 'server/src/main.ts',
} as const;

/** The name of a test server. */
export type TestServer = keyof typeof TEST_SERVERS;

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
 * Bundles every test server into {@link BUNDLE_DIR} and marks them ready for this process and the
 * test workers it starts (Vitest's global setup calls it).
 */
export async function bundleTestServers(): Promise<void> {
  mkdirSync(BUNDLE_DIR, {recursive: true});
  // A temporary name first: a run in progress elsewhere never starts half a file.
  const suffix = `.${process.pid}.tmp`;
  await build({
    entryPoints: Object.entries(TEST_SERVERS).map(([name, entry]) => ({in: join(root, entry), out: `${name}${suffix}`})),
    outdir: BUNDLE_DIR,
    outExtension: {'.js': '.mjs'},
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['switchboard-source'],
    plugins: [dependenciesExternal],
    logLevel: 'warning',
  });
  for (const name of Object.keys(TEST_SERVERS)) renameSync(join(BUNDLE_DIR, `${name}${suffix}.mjs`), join(BUNDLE_DIR, `${name}.mjs`));
  process.env[READY] = '1';
}

/**
 * The Node arguments that start test server `name`: its bundle when this run made one, else its
 * source through `tsx` (a test started outside Vitest's setup).
 *
 * ```ts
 * spawn(process.execPath, ['--expose-gc', ...testServerArgs('victim-server'), JSON.stringify(options)]);
 * ```
 */
export function testServerArgs(name: TestServer): string[] {
  const bundle = join(BUNDLE_DIR, `${name}.mjs`);
  if (process.env[READY] === '1' && existsSync(bundle)) return [bundle];
  return ['--conditions=switchboard-source', '--import', 'tsx', join(root, TEST_SERVERS[name])];
}

/** Vitest's global setup (vitest.config.ts): the bundles are ready before any test file starts. */
export const setup = bundleTestServers;
