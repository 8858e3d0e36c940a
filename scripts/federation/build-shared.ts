/**
 * The "shared" build: each shared package once as an ES module (`dist/assets/shared/`), each app
 * with those packages left as bare imports (`dist/assets/apps/`), every file content-hashed. The
 * page's import map (see import-map.ts) says where each bare import loads from.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {build, type Rolldown, type UserConfig} from 'vite';
import {outDir, sourceConditions} from '../../vite.config';
import type {SharedBuilds, SharedRequirement} from '@switchboard/registry';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Packages the page loads once, whatever number of apps use them. Apps import them by bare name only. */
export const SHARED = [
  'lit',
  'zod',
  '@microsoft/signalr',
  '@switchboard/contracts',
  '@switchboard/bus',
  '@switchboard/lit',
  '@switchboard/signalr',
  '@switchboard/devtools',
  'react',
  'react-dom',
  'react-dom/client',
  'react/jsx-runtime',
] as const;

/** Packages whose default export apps may use, besides their named exports. */
const WITH_DEFAULT = new Set(['zod', 'react', 'react-dom']);

/**
 * CommonJS packages (React): `export *` cannot see a CommonJS module's names, so their shared entry
 * names each export, read from the module itself.
 */
const COMMONJS = new Set(['react', 'react-dom', 'react-dom/client', 'react/jsx-runtime']);

/** Whether the page's shared module of `pkg` has a default export (see `entryOf`). */
export function sharedHasDefault(pkg: string): boolean {
  return WITH_DEFAULT.has(pkg) || COMMONJS.has(pkg);
}

/** The package a bare specifier belongs to (`react/jsx-runtime` → `react`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

/** The installed (hoisted) version of `pkg` (or of the package a subpath belongs to); read from the file, since not every package exports its package.json. */
export function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(resolve(root, 'node_modules', packageOf(pkg), 'package.json'), 'utf8')) as {version: string}).version;
}

/** The entry module re-exporting a shared package. */
function entryOf(pkg: string): string {
  if (!COMMONJS.has(pkg)) return `export * from '${pkg}';\n${WITH_DEFAULT.has(pkg) ? `export {default} from '${pkg}';\n` : ''}`;
  const names = Object.keys(createRequire(resolve(root, 'package.json'))(pkg) as object).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  return `import m from '${pkg}';\nexport default m;\nexport const {${names.join(', ')}} = m;\n`;
}

/**
 * zod's `z.locales` namespace holds every language's error messages (about three quarters of the
 * library). The shared zod keeps English, zod's default, and drops the others; a page that wants
 * another language imports it itself (`import de from 'zod/v4/locales/de.js'; z.config(de())`).
 */
const englishZodOnly = {
  name: 'switchboard:english-zod-only',
  load(id: string) {
    if (!/[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/.test(id)) return null;
    return `export {default as en} from './en.js';\n`;
  },
};

/**
 * Shared CommonJS packages (react-dom requires react) stay external however they are reached: an
 * `import` stays a bare import; a `require()` (which a browser cannot run) becomes a module that
 * re-exports the bare import, so react-dom's `require('react')` gets the page's one React.
 */
function requireShared(names: readonly string[]) {
  const prefix = '\0switchboard-require:';
  return {
    name: 'switchboard:require-shared',
    enforce: 'pre' as const,
    resolveId(source: string, _importer: string | undefined, extra: {kind?: string} | undefined) {
      if (!names.includes(source)) return null;
      if (extra?.kind === 'require-call') return `${prefix}${source}`;
      return {id: source, external: true};
    },
    load(id: string) {
      if (!id.startsWith(prefix)) return null;
      const source = id.slice(prefix.length);
      return `export * from '${source}';\nexport {default} from '${source}';\n`;
    },
  };
}

/** A library build of `entry` into `outDir/outSubdir` (or an absolute folder), `external` left as bare imports. */
export function baseConfig(outSubdir: string, entry: string, fileName: string, external: readonly string[]): UserConfig {
  const commonjs = external.filter((name) => COMMONJS.has(name));
  return {
    configFile: false,
    root,
    publicDir: false,
    logLevel: 'warn',
    plugins: [englishZodOnly, requireShared(commonjs)],
    // React reads process.env.NODE_ENV; a library build leaves it for a bundler that never comes.
    define: {'process.env.NODE_ENV': JSON.stringify('production')},
    resolve: {conditions: sourceConditions},
    build: {
      outDir: resolve(outDir, outSubdir),
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      minify: true,
      rolldownOptions: {external: external.filter((name) => !COMMONJS.has(name)), output: {minify: true}},
      lib: {entry, formats: ['es'], fileName: () => fileName},
    },
  } as UserConfig;
}

/** The entry chunk of a build's output. */
export function chunkOf(output: Awaited<ReturnType<typeof build>>): Rolldown.OutputChunk {
  const outputs = Array.isArray(output) ? output : [output];
  const chunk = outputs.flatMap((o) => ('output' in o ? o.output : [])).find((c): c is Rolldown.OutputChunk => c.type === 'chunk' && c.isEntry);
  if (chunk === undefined) throw new Error('the build produced no entry chunk');
  return chunk;
}

/** Builds every shared package once; returns where each version is served, and what each one imports in turn. */
export async function buildSharedPackages(): Promise<{builds: SharedBuilds; requirements: SharedRequirement[]}> {
  // Entries live under node_modules so their bare imports resolve from the repository.
  const entries = resolve(root, 'node_modules/.switchboard-shared');
  mkdirSync(entries, {recursive: true});
  const builds: Record<string, Record<string, string>> = {};
  const requirements: SharedRequirement[] = [];
  for (const pkg of SHARED) {
    const version = installedVersion(pkg);
    const safe = pkg.replace(/^@/, '').replace(/\//g, '-');
    const entry = resolve(entries, `${safe}.js`);
    writeFileSync(entry, entryOf(pkg));
    const chunk = chunkOf(await build(baseConfig('assets/shared', entry, `${safe}@${version}-[hash].js`, SHARED.filter((s) => s !== pkg))));
    const module = `/assets/shared/${chunk.fileName}`;
    builds[pkg] = {[version]: module};
    // A shared package imports others (@switchboard/signalr imports @microsoft/signalr): its ranges count too.
    requirements.push({name: pkg, module, requires: rangesOf(resolve(root, 'node_modules', packageOf(pkg)), sharedImports(chunk))});
  }
  return {builds, requirements};
}

/** The shared packages a chunk imports by bare name. */
export function sharedImports(chunk: Rolldown.OutputChunk): Array<(typeof SHARED)[number]> {
  return chunk.imports.filter((i): i is (typeof SHARED)[number] => (SHARED as readonly string[]).includes(i));
}

/** Ranges a workspace declares for the shared packages, from its package.json and, for the rest, the installed version. */
export function rangesOf(workspaceDir: string, imports: readonly string[]): Record<string, string> {
  const pkg = JSON.parse(readFileSync(resolve(workspaceDir, 'package.json'), 'utf8')) as {dependencies?: Record<string, string>; peerDependencies?: Record<string, string>};
  const requires: Record<string, string> = {};
  for (const name of imports) {
    const owner = packageOf(name);
    requires[name] = pkg.dependencies?.[owner] ?? pkg.peerDependencies?.[owner] ?? `^${installedVersion(name)}`;
  }
  return requires;
}

/** Builds one app's shared variant; returns its module URL and what it needs. */
export async function buildSharedApp(name: string): Promise<SharedRequirement> {
  const chunk = chunkOf(await build(baseConfig('assets/apps', resolve(root, 'apps', name, 'src/index.ts'), `${name}-[hash].js`, SHARED)));
  return {name, module: `/assets/apps/${chunk.fileName}`, requires: rangesOf(resolve(root, 'apps', name), sharedImports(chunk))};
}

/** What the shell's own bundle needs, from its package.json (it imports every shared package but zod). */
export function shellRequirement(imports: readonly string[]): SharedRequirement {
  return {name: 'shell', module: '/assets/', requires: rangesOf(resolve(root, 'shell'), imports)};
}
