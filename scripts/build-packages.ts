/**
 * `npm run build:packages`: each published kit package compiled by `tsc` into its own `dist/`
 * (ESM JavaScript, `.d.ts`, source maps), in dependency order, since a package type-checks
 * against the `dist/` declarations of the packages it imports (as an installed user would).
 */
import {spawnSync} from 'node:child_process';
import {rmSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The packages a user installs, each after the packages it depends on. */
export const PUBLIC_PACKAGES = ['contracts', 'bus', 'lit', 'signalr', 'devtools', 'hub', 'testing', 'shell', 'react', 'vue'] as const;

/** Compiles every public package; stops at the first that fails. */
export function buildPackages(): void {
  const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
  for (const name of PUBLIC_PACKAGES) {
    const dir = resolve(root, 'packages', name);
    rmSync(resolve(dir, 'dist'), {recursive: true, force: true});
    const run = spawnSync(process.execPath, [tsc, '-p', resolve(dir, 'tsconfig.build.json')], {stdio: 'inherit'});
    if (run.status !== 0) throw new Error(`tsc failed for packages/${name}`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPackages();
  console.log(`built ${PUBLIC_PACKAGES.length} packages into packages/<name>/dist/`);
}
