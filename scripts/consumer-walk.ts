/**
 * The getting-started pages followed word for word, for the consumer test: every shell block of
 * docs/getting-started/install.md and docs/guide/testing.md runs as a bash script (a `cd` carries
 * on to the next block, as in one terminal), in a new folder
 * outside the repository, and every block that names a file (```` ```ts [src/contract.ts] ````) is
 * written to that file with the block's text, in page order. The only changes to what users type
 * are addresses: the registry's `http://127.0.0.1:4873/` and the server's `:8080` become the ones
 * this run got (the server is started with `PORT=0`).
 *
 * `<!-- walk: … -->` on the line before a shell block says what a reader does beyond typing it:
 * - `skip <reason>`: not run here (e.g. it starts the registry, which the consumer test has done);
 * - `serve, open it following "<topic>"`: a server the reader leaves running: started in the
 *   background until its `listening on <url>` line, then its page is opened in Chromium, as the
 *   page says to, until that page's hub bridge follows the topic;
 * - `then the page shows "<text>"`: after the block ran, the open page must show that text.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {chromium, type Browser, type Page} from '@playwright/test';
import {CHROMIUM_ARGS, findChromium} from './chromium';
import {codeBlocks, fileOf} from './docs/markdown';

/** The pages walked, in the order the site presents them. */
export const WALK_PAGES = ['docs/getting-started/install.md', 'docs/guide/testing.md'] as const;

/** The registry address the pages show. */
const DOCS_REGISTRY = 'http://127.0.0.1:4873/';
/** The server addresses the pages show. */
const DOCS_SERVER = /http:\/\/(?:127\.0\.0\.1|localhost):8080/g;

/** One thing a page tells the reader to do. */
export type WalkStep =
  | {readonly kind: 'file'; readonly page: string; readonly line: number; readonly path: string; readonly text: string}
  | {readonly kind: 'shell'; readonly page: string; readonly line: number; readonly script: string; readonly serve?: {readonly topic: string}; readonly shows?: string};

const shells = new Set(['sh', 'bash', 'shell']);

/** The steps of one page, in order: files to write and shell blocks to run (skipped blocks left out, with a reason required). */
export function walkSteps(markdown: string, page: string): WalkStep[] {
  const steps: WalkStep[] = [];
  const lines = markdown.split('\n');
  for (const block of codeBlocks(markdown)) {
    const path = fileOf(block);
    if (path !== undefined) {
      // The reader sees no fence info: the words before the block must name the file.
      if (!paragraphBefore(lines, block.line).includes(`\`${path}\``)) throw new Error(`${page}:${block.line}: the text before the block of ${path} must name it (\`${path}\`)`);
      steps.push({kind: 'file', page, line: block.line, path, text: `${block.code}\n`});
      continue;
    }
    if (!shells.has(block.lang)) continue;
    const marker = block.walk ?? '';
    const skip = /^skip\b\s*(.*)$/.exec(marker);
    if (skip) {
      if (!skip[1]) throw new Error(`${page}:${block.line}: a skipped block needs a reason: <!-- walk: skip <why> -->`);
      continue;
    }
    const serve = /^serve, open it following "([^"]+)"$/.exec(marker);
    const shows = /^then the page shows "([^"]+)"$/.exec(marker);
    if (marker && !serve && !shows) throw new Error(`${page}:${block.line}: unknown walk marker "${marker}"`);
    const script = `${block.code.trim()}\n`;
    if (serve && script.trim().includes('\n')) throw new Error(`${page}:${block.line}: a "serve" block holds one command`);
    steps.push({kind: 'shell', page, line: block.line, script, ...(serve ? {serve: {topic: serve[1]!}} : {}), ...(shows ? {shows: shows[1]!} : {})});
  }
  return steps;
}

/**
 * An expression true once a hub bridge of the page is connected and follows `topic`: what
 * `@switchboard/testing`'s `waitForTopic` reads (the page's bridges under a `Symbol.for` key). A
 * string, not a function: this file runs through tsx, whose name helpers do not exist in the page.
 */
function followsInPage(topic: string): string {
  return `[...(globalThis[Symbol.for('switchboard.page-hubs')]?.values() ?? [])].some((h) => h.status === 'connected' && [...h.following].includes(${JSON.stringify(topic)}))`;
}

/** The paragraph just above a fence (1-based `fenceLine`), past blank lines and HTML comments. */
function paragraphBefore(lines: readonly string[], fenceLine: number): string {
  let i = fenceLine - 2;
  while (i >= 0 && (lines[i]!.trim() === '' || /^\s*<!--.*-->\s*$/.test(lines[i]!))) i--;
  const paragraph: string[] = [];
  for (; i >= 0 && lines[i]!.trim() !== ''; i--) paragraph.unshift(lines[i]!);
  return paragraph.join(' ');
}

/** What the walk needs from the consumer test. */
export interface WalkOptions {
  readonly root: string;
  /** An empty folder: the pages' own `mkdir` makes the project inside it. */
  readonly workDir: string;
  /** The local registry the release published to. */
  readonly registryUrl: string;
  /** Environment for the reader's commands (no npm_config_registry: the page's own `npm config set registry` must do it). */
  readonly env: NodeJS.ProcessEnv;
  readonly step: (what: string) => void;
}

/** The project the walk left (its server stopped). */
export interface Walked {
  readonly project: string;
}

/** Follows the pages; throws naming the page and line of the first step that failed. */
export async function walkGettingStarted(options: WalkOptions): Promise<Walked> {
  const {root, workDir, registryUrl, env, step} = options;
  let cwd = workDir;
  let server: ChildProcess | undefined;
  let serverUrl: string | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
  const close = async () => {
    await browser?.close();
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((done) => server!.once('exit', done));
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        return; // already gone
      }
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000).unref())]);
    }
  };
  try {
    for (const file of WALK_PAGES) {
      for (const s of walkSteps(readFileSync(join(root, file), 'utf8'), file)) {
        const where = `${s.page}:${s.line}`;
        if (s.kind === 'file') {
          const target = join(cwd, s.path);
          mkdirSync(dirname(target), {recursive: true});
          writeFileSync(target, s.text);
          continue;
        }
        const script = s.script.replaceAll(DOCS_REGISTRY, registryUrl).replace(DOCS_SERVER, () => {
          if (serverUrl === undefined) throw new Error(`${where}: the block names the server before any block started it`);
          return serverUrl;
        });
        const first = s.script.trim().split('\n')[0]!;
        if (s.serve) {
          ({server, serverUrl} = await serve(script.trim(), cwd, env, where));
          step(`${where}: "${first}" listens at ${serverUrl}`);
          browser = await chromium.launch({executablePath: findChromium(), args: CHROMIUM_ARGS});
          page = await browser.newPage();
          page.on('pageerror', (error) => pageErrors.push(error.message));
          page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
          await page.goto(serverUrl);
          await page.waitForFunction(followsInPage(s.serve.topic), undefined, {timeout: 15_000});
          step(`${where}: the page at ${serverUrl} follows "${s.serve.topic}"`);
        } else {
          cwd = await run(script, cwd, env, where);
          step(`${where}: ran the block "${first.length > 60 ? `${first.slice(0, 57)}...` : first}"${s.script.trim().includes('\n') ? ' and what follows' : ''}`);
        }
        if (s.kind === 'shell' && s.shows !== undefined) {
          if (page === undefined) throw new Error(`${where}: expects the page to show "${s.shows}" but no block opened a page`);
          await page.getByText(s.shows, {exact: true}).waitFor({timeout: 15_000});
          step(`${where}: the page shows "${s.shows}"`);
          // The reader has seen it: nothing later needs the tab or the server, so neither is left
          // running through the next pages' work.
          if (pageErrors.length > 0) throw new Error(`${where}: the page logged errors: ${pageErrors.join(' | ')}`);
          await close();
          browser = undefined;
          page = undefined;
        }
      }
    }
    if (pageErrors.length > 0) throw new Error(`the page logged errors: ${pageErrors.join(' | ')}`);
    if (serverUrl === undefined) throw new Error(`no page of ${WALK_PAGES.join(', ')} started a server`);
    return {project: cwd};
  } finally {
    await close();
  }
}

/**
 * Runs one block with bash as a reader's terminal would, line after line, stopping at the first
 * that fails (`set -e`); resolves with the folder the block ended in (a `cd` carries on to the next
 * block, as in a terminal).
 */
function run(script: string, cwd: string, env: NodeJS.ProcessEnv, where: string): Promise<string> {
  const marker = `__walk_cwd_${process.pid}__`;
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-c', `${script}\necho "${marker}$PWD"`], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', fail);
    child.once('exit', (code) => {
      const ended = out.lastIndexOf(marker);
      if (code === 0 && ended >= 0) done(out.slice(ended + marker.length).split('\n')[0]!.trim());
      else fail(new Error(`${where}: the block failed (exit ${code}):\n${script}\n${out}`));
    });
  });
}

/** Starts a reader's server in its own process group on a free port; resolves with its printed address. */
function serve(command: string, cwd: string, env: NodeJS.ProcessEnv, where: string): Promise<{server: ChildProcess; serverUrl: string}> {
  const server = spawn('bash', ['-c', `exec ${command}`], {cwd, env: {...env, PORT: '0'}, stdio: ['ignore', 'pipe', 'pipe'], detached: true});
  return new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      fail(new Error(`${where}: "${command}" printed no "listening on <url>" within 30 s:\n${out}`));
    }, 30_000);
    timer.unref();
    const read = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        done({server, serverUrl: match[1]!});
      }
    };
    server.stdout!.on('data', read);
    server.stderr!.on('data', read);
    server.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${where}: "${command}" exited with ${code} before listening:\n${out}`));
    });
  });
}
