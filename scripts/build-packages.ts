/**
 * `npm run build:packages`: each published kit package compiled by `tsc` into its own `dist/`
 * (ESM JavaScript, `.d.ts`, source maps), in dependency order, since a package type-checks
 * against the `dist/` declarations of the packages it imports (as an installed user would).
 * A package whose `dist/` was built after every input changed (its sources, manifest and tsconfigs,
 * the shared tsconfig, the lockfile, the packages it imports) is kept: `npm test` builds, then the
 * consumer test releases, and the second build would compile the same files again.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A workspace package under `packages/` that is published (its `package.json` is not `private`). */
export interface PublicPackage {
  /** The folder name under `packages/`. */
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  /** Absolute path of the package folder. */
  readonly path: string;
  /** The other public packages it depends on (any kind of dependency), by name. */
  readonly internal: readonly string[];
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Every public package under `packages/`, each after the packages it depends on. Discovered from
 * the `private` flag, so a new package is built, packed and released without being listed here.
 */
export function publicPackages(packagesDir = resolve(root, 'packages')): PublicPackage[] {
  const found = new Map<string, {dir: string; manifest: Manifest}>();
  for (const dir of readdirSync(packagesDir).sort()) {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(resolve(packagesDir, dir, 'package.json'), 'utf8')) as Manifest;
    } catch {
      continue; // not a package folder
    }
    if (manifest.private !== true) found.set(manifest.name, {dir, manifest});
  }
  const ordered: PublicPackage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle between packages: ${[...chain, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const {dir, manifest} = found.get(name)!;
    const internal = [
      ...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]),
    ].filter((dependency) => found.has(dependency));
    for (const dependency of internal) visit(dependency, [...chain, name]);
    state.set(name, 'done');
    ordered.push({dir, name, version: manifest.version, path: resolve(packagesDir, dir), internal});
  };
  for (const name of found.keys()) visit(name, []);
  return ordered;
}

/** The folder names of the public packages, in build order. */
export const PUBLIC_PACKAGES: readonly string[] = publicPackages().map((p) => p.dir);

/** The latest modification time under `path` (folders count: removing a file changes its folder), 0 when absent. */
function latestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, latestChange(join(path, name))), stat.mtimeMs);
}

/** Options of {@link buildPackages}. */
export interface BuildPackagesOptions {
  /** Compiles every package, built or not. */
  readonly force?: boolean;
  /** The folder of the packages; the repository's `packages/` by default. Its parent holds the shared tsconfig and lockfile. */
  readonly packagesDir?: string;
}

/**
 * Compiles every public package whose build is out of date (all of them with `force`), each after
 * the packages it imports; stops at the first that fails. Returns the folder names it compiled.
 */
export function buildPackages(options: BuildPackagesOptions = {}): string[] {
  const packagesDir = options.packagesDir ?? resolve(root, 'packages');
  const base = dirname(packagesDir);
  const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
  // Stamped outside dist/, and only after tsc succeeded: a half-written dist/ never looks built.
  const stamps = join(base, 'node_modules/.switchboard-build');
  mkdirSync(stamps, {recursive: true});
  const built = new Map<string, number>();
  const compiled: string[] = [];
  const shared = Math.max(...['tsconfig.base.json', 'package-lock.json'].map((file) => latestChange(join(base, file))));
  for (const {dir, name, path, internal} of publicPackages(packagesDir)) {
    const stamp = join(stamps, `${dir}.stamp`);
    const inputs = Math.max(shared, ...['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'].map((file) => latestChange(join(path, file))), ...internal.map((dependency) => built.get(dependency) ?? Infinity));
    const stamped = existsSync(resolve(path, 'dist')) ? latestChange(stamp) : 0;
    if (options.force !== true && stamped > inputs) {
      built.set(name, stamped);
      continue;
    }
    rmSync(stamp, {force: true});
    rmSync(resolve(path, 'dist'), {recursive: true, force: true});
    const run = spawnSync(process.execPath, [tsc, '-p', resolve(path, 'tsconfig.build.json')], {stdio: 'inherit'});
    if (run.status !== 0) throw new Error(`tsc failed for packages/${dir}`);
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    built.set(name, latestChange(stamp));
    compiled.push(dir);
  }
  return compiled;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const compiled = buildPackages();
  console.log(`built ${compiled.length} of ${PUBLIC_PACKAGES.length} packages into packages/<name>/dist/ (the others were up to date)`);
}
