/**
 * Every TypeScript snippet in the docs compiles: each ```ts block of docs/**\/*.md and the README
 * becomes a module of a generated project that resolves the kit's packages as a user's project
 * does (NodeNext, strict, DOM and Node types; the workspace sources through the
 * `switchboard-source` condition), `tsc -p` compiles them all at once, and each error is reported
 * at the page and line it comes from. Blocks fenced as ```ts runnable are also run with Node.
 *
 * Markers, on the line just before a fence:
 * - `<!-- snippet: skip <reason> -->` leaves a block out (a partial example); the reason is required.
 * - `<!-- snippet: declare const bus: Bus; declare function render(o: unknown): void; -->` compiles
 *   the block with those ambient declarations after it, for names the surrounding prose introduces.
 *
 * A block that is a whole file of the reader's project (```` ```ts [src/contract.ts] ````) is
 * compiled under that path, in one project shared by every page, so its relative imports
 * (`./contract.js`) resolve to the other files the pages name; one path shown twice must be the
 * same text.
 *
 * `npm run docs:snippets` runs it alone; `scripts/docs/test/docs-snippets.test.ts` runs it in `npm test`.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {codeBlocks, docPages, fileOf, readPage, repoRoot} from './markdown';

/** Where a problem is: a page and a line of it. */
export interface SnippetProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** What a check found. */
export interface SnippetReport {
  readonly compiled: number;
  readonly ran: number;
  readonly skipped: ReadonlyArray<{file: string; line: number; reason: string}>;
  readonly problems: readonly SnippetProblem[];
}

interface Snippet {
  readonly file: string;
  /** The page line of the snippet's first code line. */
  readonly firstLine: number;
  readonly code: string;
  readonly declarations: string;
  readonly runnable: boolean;
  /** The project file this block is, when the page names one (`[path]`). */
  readonly path?: string;
}

/** Where the files pages name are written in the generated project. */
const PROJECT_FILES = 'files';

const tsLangs = new Set(['ts', 'typescript']);

/** The TypeScript snippets of `pages`, and the ones left out with their reasons. */
export function collectSnippets(pages: readonly string[], root = repoRoot) {
  const snippets: Snippet[] = [];
  const skipped: Array<{file: string; line: number; reason: string}> = [];
  const problems: SnippetProblem[] = [];
  for (const file of pages) {
    for (const block of codeBlocks(readPage(file, root))) {
      if (!tsLangs.has(block.lang)) continue;
      const marker = block.marker ?? '';
      const skip = /^skip\b\s*(.*)$/s.exec(marker);
      if (skip) {
        if (skip[1]!.trim()) skipped.push({file, line: block.line, reason: skip[1]!.trim()});
        else problems.push({file, line: block.line, message: 'a skipped snippet needs a reason: <!-- snippet: skip <why it cannot compile> -->'});
        continue;
      }
      const declare = /^declare\b/.test(marker);
      if (marker && !declare) {
        problems.push({file, line: block.line, message: `unknown snippet marker "${marker}" (use "skip <reason>", or ambient declarations starting with "declare")`});
        continue;
      }
      let path: string | undefined;
      try {
        path = fileOf(block);
      } catch (error) {
        problems.push({file, line: block.line, message: (error as Error).message});
        continue;
      }
      const same = path === undefined ? undefined : snippets.find((s) => s.path === path);
      if (same !== undefined) {
        if (same.code !== block.code) problems.push({file, line: block.line, message: `${path} is shown with other text at ${same.file}:${same.firstLine - 1}: a reader cannot write both`});
        continue;
      }
      snippets.push({
        file,
        firstLine: block.line + 1,
        code: block.code,
        declarations: declare ? marker : '',
        runnable: block.flags.includes('runnable'),
        ...(path === undefined ? {} : {path}),
      });
    }
  }
  return {snippets, skipped, problems};
}

/** The generated project: strict like the repository, resolved like a user's NodeNext project. */
function writeProject(dir: string, snippets: readonly Snippet[], kitRoot: string): string[] {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({private: true, type: 'module'}));
  symlinkSync(join(kitRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const files = snippets.map((s, i) => {
    const name = s.path === undefined ? `snippet-${String(i).padStart(3, '0')}.ts` : `${PROJECT_FILES}/${s.path}`;
    mkdirSync(dirname(join(dir, name)), {recursive: true});
    // Declarations go after the code so the snippet's lines keep their numbers; `export {}` makes every snippet a module.
    writeFileSync(join(dir, name), `${s.code}\n${s.declarations}\nexport {};\n`);
    return name;
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(kitRoot, 'tsconfig.base.json'),
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        noEmit: true,
        // An example may name a value to show it and not use it; importing a type without `import type` is a user's habit.
        noUnusedLocals: false,
        noUnusedParameters: false,
        verbatimModuleSyntax: false,
      },
      files,
    }),
  );
  return files;
}

const tscError = /^(\S+\.[cm]?tsx?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;

/** tsc's errors, each at its page and line. */
function compile(dir: string, snippets: readonly Snippet[], files: readonly string[], kitRoot: string): SnippetProblem[] {
  const byFile = new Map(files.map((name, i) => [name, snippets[i]!]));
  const tsc = join(kitRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {cwd: dir, encoding: 'utf8'});
  if (run.status === 0) return [];
  const problems: SnippetProblem[] = [];
  for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
    const m = tscError.exec(line);
    const s = m ? byFile.get(m[1]!) : undefined;
    if (m && s) {
      const codeLine = Number(m[2]);
      const inDeclarations = codeLine > s.code.split('\n').length;
      problems.push({
        file: s.file,
        line: inDeclarations ? s.firstLine - 2 : s.firstLine + codeLine - 1,
        message: `${m[4]}: ${m[5]}${inDeclarations ? ' (in the snippet marker\'s declarations)' : ''}`,
      });
    } else if (line.startsWith(' ') && problems.length > 0) {
      const last = problems.pop()!;
      problems.push({...last, message: `${last.message}\n${line}`});
    } else if (line.trim() && !byFile.has(line.split('(')[0]!)) {
      problems.push({file: 'tsconfig', line: 0, message: line});
    }
  }
  if (problems.length === 0) problems.push({file: 'tsc', line: 0, message: `tsc failed: ${run.stdout}${run.stderr}`});
  return problems;
}

/** Runs a runnable snippet with Node (the kit from its sources, TypeScript through tsx). */
function run(dir: string, file: string, snippet: Snippet): SnippetProblem | undefined {
  const result = spawnSync(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', file], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: {...process.env, NODE_OPTIONS: ''},
  });
  if (result.status === 0) return undefined;
  const why = result.error ? String(result.error) : `exit ${result.status}: ${(result.stderr || result.stdout).trim().split('\n').slice(0, 8).join('\n')}`;
  return {file: snippet.file, line: snippet.firstLine - 1, message: `runnable snippet failed: ${why}`};
}

/**
 * Compiles (and runs, where marked) every TypeScript snippet of `pages` (paths relative to `root`),
 * against the kit and the dependencies installed at `kitRoot`.
 */
export function checkSnippets(root = repoRoot, pages = docPages(root), kitRoot = repoRoot): SnippetReport {
  const {snippets, skipped, problems} = collectSnippets(pages, root);
  if (snippets.length === 0) return {compiled: 0, ran: 0, skipped, problems};
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-snippets-'));
  try {
    const files = writeProject(dir, snippets, kitRoot);
    const compileProblems = compile(dir, snippets, files, kitRoot);
    let ran = 0;
    const runProblems: SnippetProblem[] = [];
    if (compileProblems.length === 0) {
      snippets.forEach((s, i) => {
        if (!s.runnable) return;
        ran++;
        const problem = run(dir, files[i]!, s);
        if (problem) runProblems.push(problem);
      });
    }
    return {compiled: snippets.length, ran, skipped, problems: [...problems, ...compileProblems, ...runProblems]};
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/** `file:line: message` lines, the way editors link them. */
export function formatProblems(problems: readonly SnippetProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = checkSnippets();
  console.log(`${report.compiled} snippets compiled, ${report.ran} run, ${report.skipped.length} skipped with a reason`);
  if (report.problems.length > 0) {
    console.error(formatProblems(report.problems));
    process.exitCode = 1;
  }
}
