import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {namesFor, type ProjectNames} from './names.js';
import type {TemplateName} from './templates.js';

/** Where the templates live in the installed package (beside `dist/` and `src/`). */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What {@link scaffold} needs. */
export interface ScaffoldOptions {
  readonly template: TemplateName;
  /** The project name (folder, package name, element tag); see `namesFor`. */
  readonly name: string;
  /** The folder to create; `./<name>` by default. It must not exist or be empty. */
  readonly directory?: string;
  /** The version range of the kit's packages written into package.json; this package's own `^version` by default. */
  readonly kitVersion?: string;
}

/** What {@link scaffold} wrote. */
export interface ScaffoldResult {
  readonly directory: string;
  readonly names: ProjectNames;
  /** Paths written, relative to `directory`. */
  readonly files: readonly string[];
}

// npm never packs a file named .gitignore (it becomes .npmignore), so templates carry it as _gitignore.
const renamed: Record<string, string> = {_gitignore: '.gitignore'};

/**
 * Writes a new project from a template: the `common/` files every micro frontend shares (not for
 * `shell`), then the template's own, with `__NAME__`, `__TAG__`, `__CLASS__` and `__KIT_VERSION__`
 * replaced in file contents and names. Refuses a folder that already holds files.
 */
export function scaffold(options: ScaffoldOptions): ScaffoldResult {
  const names = namesFor(options.name);
  const directory = resolve(options.directory ?? names.name);
  if (existsSync(directory) && readdirSync(directory).length > 0) throw new Error(`${directory} already exists and is not empty`);
  const kitVersion = options.kitVersion ?? `^${(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version}`;
  const replace = (text: string) =>
    text.replaceAll('__NAME__', names.name).replaceAll('__TAG__', names.tag).replaceAll('__CLASS__', names.className).replaceAll('__KIT_VERSION__', kitVersion);
  const sources = options.template === 'shell' ? ['shell'] : ['common', options.template];
  const files: string[] = [];
  for (const source of sources) {
    const from = join(packageRoot, 'templates', source);
    for (const file of walk(from)) {
      const relativePath = relative(from, file);
      const base = relativePath.split('/').pop()!;
      const target = join(directory, replace(join(dirname(relativePath), renamed[base] ?? base)));
      mkdirSync(dirname(target), {recursive: true});
      writeFileSync(target, replace(readFileSync(file, 'utf8')));
      files.push(relative(directory, target));
    }
  }
  return {directory, names, files: [...new Set(files)].sort()};
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
