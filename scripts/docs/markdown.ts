/**
 * What the docs checks read from Markdown: the pages of the site, their fenced code blocks with
 * the marker comment before each, their headings' anchors as VitePress makes them, and their
 * links. Line-based on purpose: the checks need positions (file and line), not a rendered page.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository's root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Generated or tooling folders under docs/ that are not pages written by hand. */
const notPages = new Set(['node_modules', 'api', '.vitepress', 'generated']);

/**
 * Every hand-written Markdown page of the site (docs/**\/*.md), the README and each package's
 * README (what npm shows), as repo-relative paths.
 */
export function docPages(root = repoRoot): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      if (entry.isDirectory()) {
        if (!notPages.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.md')) {
        pages.push(relative(root, join(dir, entry.name)));
      }
    }
  };
  walk(join(root, 'docs'));
  const packages = join(root, 'packages');
  const readmes = existsSync(packages)
    ? readdirSync(packages, {withFileTypes: true})
        .filter((e) => e.isDirectory() && existsSync(join(packages, e.name, 'README.md')))
        .map((e) => `packages/${e.name}/README.md`)
    : [];
  return ['README.md', ...pages.sort(), ...readmes.sort()];
}

/** One fenced code block. */
export interface CodeBlock {
  /** The fence's language, e.g. `ts`. */
  readonly lang: string;
  /** The words after the language, e.g. `['runnable']`. */
  readonly flags: readonly string[];
  /** 1-based line of the opening fence; the code's first line is `line + 1`. */
  readonly line: number;
  /** The code, with the fence's indentation removed. */
  readonly code: string;
  /** The text of a `<!-- snippet: … -->` comment just before the fence, if any. */
  readonly marker?: string;
  /** The text of a `<!-- walk: … -->` comment just before the fence, if any (see scripts/consumer/walk.ts). */
  readonly walk?: string;
}

/**
 * The file a block is the whole content of, from a `[path]` after the fence's language
 * (```` ```ts [src/contract.ts] ````, VitePress's code-title syntax): the page tells users to
 * write that file with that text. Relative, forward slashes, no `..`.
 */
export function fileOf(block: CodeBlock): string | undefined {
  const flag = block.flags.find((f) => /^\[.+\]$/.test(f));
  if (flag === undefined) return undefined;
  const path = flag.slice(1, -1);
  if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`a code block's file must be a relative path inside the project, not ${path} (line ${block.line})`);
  return path;
}

const fenceOpen = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;
const markerComment = /^\s*<!--\s*snippet:\s*([\s\S]*?)\s*-->\s*$/;
const walkComment = /^\s*<!--\s*walk:\s*([\s\S]*?)\s*-->\s*$/;

/** The fenced code blocks of a Markdown text, with the `<!-- snippet: … -->` marker on the line before each. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fenceOpen.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = '', rest = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(fence) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    const before = i > 0 ? markerComment.exec(lines[i - 1]!) : null;
    const walk = i > 0 ? walkComment.exec(lines[i - 1]!) : null;
    blocks.push({
      lang: lang.toLowerCase(),
      flags: rest.trim().split(/\s+/).filter(Boolean),
      line: i + 1,
      code: body.join('\n'),
      ...(before ? {marker: before[1]!} : {}),
      ...(walk ? {walk: walk[1]!} : {}),
    });
    i = j;
  }
  return blocks;
}

/** The anchor VitePress gives a heading (its `slugify`, from @mdit-vue/shared). */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036F]/g, '')
    .replace(/[\u0000-\u001f]/g, '')
    .replace(/[\s~`!@#$%^&*()\-_+=[\]{}|\\;:"'“”‘’<>,.?/]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/^(\d)/, '_$1')
    .toLowerCase();
}

/** A heading's text as the page shows it: no code ticks, links reduced to their words, no emphasis. */
function headingText(raw: string): string {
  return raw
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|\*|_)(\S[^*_]*?)\1/g, '$2')
    .trim();
}

/** Lines outside fenced code, with their 1-based numbers. */
function proseLines(markdown: string): Array<{text: string; line: number}> {
  const out: Array<{text: string; line: number}> = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((text, i) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(text);
    if (fence) {
      if (open && text.trim().startsWith(fence)) fence = null;
    } else if (open) {
      fence = open[1]!;
    } else {
      out.push({text, line: i + 1});
    }
  });
  return out;
}

/** Every anchor a page offers: its headings' slugs (repeats get `-1`, `-2` as VitePress numbers them), `{#custom}` ids and HTML ids. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const {text} of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) {
      const custom = /\{#([^}]+)\}\s*$/.exec(heading[1]!);
      if (custom) {
        ids.add(custom[1]!);
        continue;
      }
      const slug = slugify(headingText(heading[1]!));
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      ids.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of text.matchAll(/\bid="([^"]+)"/g)) ids.add(m[1]!);
  }
  return ids;
}

/** One link in a page's prose. */
export interface Link {
  readonly target: string;
  readonly line: number;
}

/** The links of a page's prose: Markdown links and images, and `href`/`src` attributes; none inside code. */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  for (const {text, line} of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/!?\[(?:[^\]]|\][^(])*?\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({target: m[1]!, line});
    for (const m of prose.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push({target: m[1]!, line});
    for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)) out.push({target: m[1]!, line});
  }
  return out;
}

/** The `<!--@include: path#region-->` directives of a page's prose (VitePress inserts those files). */
export function includes(markdown: string): Link[] {
  const out: Link[] = [];
  for (const {text, line} of proseLines(markdown)) {
    for (const m of text.matchAll(/<!--\s*@include:\s*(.*?)\s*-->/g)) out.push({target: m[1]!, line});
  }
  return out;
}

/** A page's text. */
export function readPage(path: string, root = repoRoot): string {
  return readFileSync(join(root, path), 'utf8');
}
