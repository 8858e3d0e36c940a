/**
 * What the shell page costs to load: every JavaScript file it fetches (the shell's own chunks and
 * each app module the manifest lists), raw and as sent compressed (brotli, gzip). Printed by
 * `npm run build`, and written to dist/sizes.json and docs/generated/sizes.md, which the docs include.
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
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

/** What the build measured, as `dist/sizes.json` holds it and the docs show it. */
export interface SizeReport {
  /** Apps the shell page loads (the manifest's). */
  readonly apps: number;
  /** Every JavaScript file of the shell page, as sent: its own chunks, the shared modules, each app's shared variant. */
  readonly shellPage: FileSize;
  /** The same apps each as its standalone bundle, all added up: what the page would load without sharing. */
  readonly standaloneTotal: FileSize;
  /** Each app's shared variant. */
  readonly sharedApps: readonly FileSize[];
  /** Each app's standalone bundle (one script tag embeds it anywhere). */
  readonly standaloneApps: readonly FileSize[];
}

const sum = (sizes: readonly FileSize[], file: string): FileSize =>
  sizes.reduce((t, s) => ({file, bytes: t.bytes + s.bytes, gzip: t.gzip + s.gzip, brotli: t.brotli + s.brotli}), {file, bytes: 0, gzip: 0, brotli: 0});

/** The report of one build. */
export function sizeReport(apps: number, shellPage: readonly FileSize[], sharedApps: readonly FileSize[], standaloneApps: readonly FileSize[]): SizeReport {
  return {apps, shellPage: sum(shellPage, 'shell page'), standaloneTotal: sum(standaloneApps, 'standalone bundles'), sharedApps, standaloneApps};
}

const range = (values: readonly number[]): string => {
  const [low, high] = [Math.min(...values), Math.max(...values)].map((n) => (n / 1024).toFixed(1));
  return low === high ? `${low} KB` : `${low}–${high} KB`;
};
const kbCell = (n: number) => `${(n / 1024).toLocaleString('en-US', {minimumFractionDigits: 1, maximumFractionDigits: 1})} KB`;

/**
 * The report as Markdown regions the docs include (`<!--@include: ../generated/sizes.md#transfer-table-->`),
 * so the numbers on the site are always the last build's.
 */
export function sizesMarkdown(report: SizeReport): string {
  const {apps, shellPage: page, standaloneTotal: alone} = report;
  const region = (name: string, text: string) => `<!-- #region ${name} -->\n${text}\n<!-- #endregion ${name} -->`;
  return [
    '<!-- Written by `npm run build` (scripts/transfer-report.ts); not edited by hand, not committed. -->',
    region(
      'transfer-table',
      [
        `| the shop's ${apps} apps, JavaScript of a first visit | raw | gzip | brotli (what is sent) |`,
        '|---|---|---|---|',
        `| each app as its standalone bundle, added up | ${kbCell(alone.bytes)} | ${kbCell(alone.gzip)} | ${kbCell(alone.brotli)} |`,
        `| the shell page: its scripts, the shared modules and each app's shared variant | ${kbCell(page.bytes)} | ${kbCell(page.gzip)} | **${kbCell(page.brotli)}** |`,
      ].join('\n'),
    ),
    region('app-count', String(apps)),
    region('shell-brotli', kbCell(page.brotli)),
    region('shared-app-gzip', range(report.sharedApps.map((s) => s.gzip))),
    region('standalone-app-gzip', range(report.standaloneApps.map((s) => s.gzip))),
    '',
  ].join('\n');
}

/** Writes `report` to `dist/sizes.json` and, for the docs, `docs/generated/sizes.md`. */
export function writeSizeReport(report: SizeReport, outDir: string, docsDir: string): void {
  writeFileSync(join(outDir, 'sizes.json'), `${JSON.stringify(report, null, 2)}\n`);
  mkdirSync(join(docsDir, 'generated'), {recursive: true});
  writeFileSync(join(docsDir, 'generated', 'sizes.md'), sizesMarkdown(report));
}
