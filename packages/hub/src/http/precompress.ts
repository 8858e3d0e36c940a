import {readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {extname, join} from 'node:path';
import {promisify} from 'node:util';
import {brotliCompress, constants, gzip} from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** File types worth compressing: text (not source maps, fetched only by devtools). Images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.txt', '.xml', '.wasm']);
/** Below this, headers cost more than compression saves. */
const MIN_BYTES = 1024;

/** What {@link precompress} wrote for one file. */
export interface Precompressed {
  /** Path relative to the folder, with `/`. */
  readonly file: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly brotli: number;
}

/**
 * Writes a `.br` (quality 11) and a `.gz` (level 9) beside every compressible file of `dir` (and its
 * subfolders), so {@link staticFiles} sends compressed bytes without compressing per request. A
 * variant that would not be smaller is not written. A folder that does not exist (nothing built
 * yet) compresses nothing: it returns `[]` with a process warning instead of throwing `ENOENT`, so a
 * server that precompresses at startup still starts before the first build.
 */
export async function precompress(dir: string): Promise<Precompressed[]> {
  const done: Precompressed[] = [];
  if (!(await isDirectory(dir))) {
    process.emitWarning(`precompress: ${dir} is not a folder (nothing built yet?); nothing was compressed`, {code: 'SWITCHBOARD_PRECOMPRESS_NO_DIR'});
    return done;
  }
  for (const file of await listFiles(dir)) {
    if (!COMPRESSIBLE.has(extname(file))) continue;
    const path = join(dir, file);
    if ((await stat(path)).size < MIN_BYTES) continue;
    const bytes = await readFile(path);
    const [b, g] = await Promise.all([
      brotli(bytes, {params: {[constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length}}),
      gz(bytes, {level: 9}),
    ]);
    if (b.length < bytes.length) await writeFile(`${path}.br`, b);
    if (g.length < bytes.length) await writeFile(`${path}.gz`, g);
    done.push({file, bytes: bytes.length, gzip: g.length, brotli: b.length});
  }
  return done;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(dir, prefix), {withFileTypes: true})) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}
