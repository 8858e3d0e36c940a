/**
 * Old builds stay served: a rebuild under a running server must not remove a content-hashed file a
 * page that is already open (or was just sent) still asks for. Each build records the hashed files
 * it wrote; files of the last two builds are kept, older ones removed.
 */
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join, relative} from 'node:path';

const RECORD = '.generations.json';
/** Builds whose hashed files stay on disk (this one and the one before). */
export const KEPT_GENERATIONS = 2;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Records which `assets/` files this build wrote (`written`, relative paths) and removes those of older builds. */
export function pruneGenerations(outDir: string, written: ReadonlySet<string>): number {
  const path = join(outDir, RECORD);
  const before = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as string[][]) : [];
  const generations = [...before, [...written]].slice(-KEPT_GENERATIONS);
  const keep = new Set(generations.flat());
  let removed = 0;
  for (const file of walk(join(outDir, 'assets'))) {
    const rel = relative(outDir, file).replace(/\\/g, '/');
    const base = rel.replace(/\.(br|gz)$/, '');
    if (!keep.has(base)) {
      rmSync(file, {force: true});
      removed++;
    }
  }
  writeFileSync(path, JSON.stringify(generations));
  return removed;
}

/** Every `assets/` file (relative to `outDir`, compressed siblings aside) modified at or after `since`. */
export function assetsSince(outDir: string, since: number): Set<string> {
  return new Set(
    walk(join(outDir, 'assets'))
      .filter((f) => !/\.(br|gz)$/.test(f) && statSync(f).mtimeMs >= since)
      .map((f) => relative(outDir, f).replace(/\\/g, '/')),
  );
}
