/**
 * `npm run build:packages`: each published kit package compiled by `tsc` into its own `dist/`
 * (ESM JavaScript, `.d.ts`, source maps), in dependency order, since a package type-checks
 * against the `dist/` declarations of the packages it imports (as an installed user would).
 */
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync, rmSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
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

/** Compiles every public package; stops at the first that fails. */
export function buildPackages(): void {
  const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
  for (const {dir, path} of publicPackages()) {
    rmSync(resolve(path, 'dist'), {recursive: true, force: true});
    const run = spawnSync(process.execPath, [tsc, '-p', resolve(path, 'tsconfig.build.json')], {stdio: 'inherit'});
    if (run.status !== 0) throw new Error(`tsc failed for packages/${dir}`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPackages();
  console.log(`built ${PUBLIC_PACKAGES.length} packages into packages/<name>/dist/`);
}
