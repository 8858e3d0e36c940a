/**
 * What the shell page costs to load: every JavaScript file it fetches (the shell's own chunks and
 * each app module the manifest lists), raw and as sent compressed (brotli, gzip). Printed by
 * `npm run build`; the target is at most 100 KB compressed for the shell with six apps.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {brotliCompressSync, constants, gzipSync} from 'node:zlib';

/** One file's sizes in bytes. */
export interface FileSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly brotli: number;
}

/** Raw, gzip and brotli sizes of `dir/file`, from the precompressed siblings when present. */
export function sizeOf(dir: string, file: string): FileSize {
  const path = join(dir, file);
  const bytes = readFileSync(path);
  const variant = (ext: string, make: () => Buffer) => (existsSync(path + ext) ? readFileSync(path + ext).length : make().length);
  return {
    file,
    bytes: bytes.length,
    gzip: variant('.gz', () => gzipSync(bytes, {level: 9})),
    brotli: variant('.br', () => brotliCompressSync(bytes, {params: {[constants.BROTLI_PARAM_QUALITY]: 11}})),
  };
}

/**
 * The JavaScript files the shell page loads: its own chunks, then the modules the manifest names.
 * `current`: the files this build wrote (the previous build's stay in assets/ for open pages).
 */
export function shellScripts(outDir: string, extra: readonly string[] = [], current?: ReadonlySet<string>): string[] {
  const own = readdirSync(join(outDir, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`).filter((f) => current === undefined || current.has(f));
  const {apps} = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as {apps: Array<{module: string}>};
  const modules = apps.map((a) => a.module.replace(/^\//, '')).filter((m) => !own.includes(m));
  return [...own, ...modules, ...extra.filter((m) => !own.includes(m) && !modules.includes(m))];
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Prints a table of `files` and their total; returns the total. */
export function printSizes(title: string, sizes: readonly FileSize[]): FileSize {
  const total = sizes.reduce((t, s) => ({file: 'total', bytes: t.bytes + s.bytes, gzip: t.gzip + s.gzip, brotli: t.brotli + s.brotli}), {file: 'total', bytes: 0, gzip: 0, brotli: 0});
  console.log(`\n${title}`);
  const width = Math.max(...sizes.map((s) => s.file.length), 5);
  console.log(`  ${'file'.padEnd(width)}  ${'raw'.padStart(10)}  ${'gzip'.padStart(10)}  ${'brotli'.padStart(10)}`);
  for (const s of [...sizes, total]) console.log(`  ${s.file.padEnd(width)}  ${kb(s.bytes).padStart(10)}  ${kb(s.gzip).padStart(10)}  ${kb(s.brotli).padStart(10)}`);
  return total;
}
