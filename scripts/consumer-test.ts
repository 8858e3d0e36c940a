/**
 * `npm run test:consumer`: the kit as a user gets it. Starts a real npm registry (Verdaccio, on a
 * free loopback port, see scripts/registry/local-registry.ts), publishes every public package to
 * it with the release script, and in a fresh project outside the repository runs the install
 * page's own `npm install @switchboard/…` lines word for word (docs/getting-started/install.md;
 * npm config points at the local registry, as the page tells users to do). There: (a) starts
 * `@switchboard/hub` with plain Node and has the official `@microsoft/signalr` client receive a
 * push; (b) builds a page that uses `bus`, `lit` and `signalr` with Vite and runs it in Chromium
 * against that server; (c) type-checks a page and a server with `moduleResolution` `NodeNext` and
 * `Bundler`. Then (d) every `npm create switchboard@latest` line of docs/guide/scaffold.md makes a
 * project whose own `npm install` and `npm test` must pass. Exits non-zero on the first failure.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from '@playwright/test';
import {build} from 'vite';
import {CHROMIUM_ARGS, findChromium} from './chromium';
import {checkScaffolds} from './consumer-scaffold';
import {docsCommands} from './docs-commands';
import {startLocalRegistry, type LocalRegistry} from './registry/local-registry';
import {release} from './release';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const step = (what: string) => console.log(`consumer: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** The page whose install lines are run as written. */
const INSTALL_PAGE = 'docs/getting-started/install.md';

const project = mkdtempSync(join(tmpdir(), 'switchboard-consumer-'));
let server: ChildProcess | undefined;
let registry: LocalRegistry | undefined;
try {
  registry = await startLocalRegistry();
  step(`a local registry runs at ${registry.url}`);
  const {published} = release({registry: registry.url, env: registry.env, log: () => {}});
  step(`npm run release built and published ${published.map((p) => p.name).join(', ')}`);

  /** Children run as a user's would: without this repository's `switchboard-source` condition, npm configured for the local registry. */
  const env = {...process.env, NODE_OPTIONS: '', npm_config_node_options: '', npm_config_registry: registry.url, CHROMIUM_PATH: findChromium()};
  const npm = (args: readonly string[], cwd: string) =>
    execFileSync('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {cwd, env, stdio: ['ignore', 'pipe', 'inherit']}).toString();

  // (0) The install page's lines, as written, in an empty project.
  writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module'}, null, 2));
  cpSync(join(root, 'scripts/consumer'), project, {recursive: true});
  const lines = docsCommands(readFileSync(join(root, INSTALL_PAGE), 'utf8'), 'npm install');
  const named = new Set(lines.flatMap((c) => c.argv.filter((w) => w.startsWith('@switchboard/'))));
  for (const needed of ['@switchboard/contracts', '@switchboard/bus', '@switchboard/lit', '@switchboard/signalr', '@switchboard/hub', '@switchboard/testing']) {
    if (!named.has(needed)) throw new Error(`${INSTALL_PAGE} no longer shows "npm install ${needed}": the checks below need it`);
  }
  for (const command of lines) {
    npm(command.argv.slice(1), project);
    step(`ran "${command.argv.join(' ')}"`);
  }
  // What the checks use beyond the page: Node's types for tsc, the official client for client.mjs.
  const versionOf = (pkg: string) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {version: string}).version;
  npm(['install', '-D', `@types/node@${versionOf('@types/node')}`, `@microsoft/signalr@${versionOf('@microsoft/signalr')}`], project);
  // The shell runtime and the framework bindings, with their peers, for frameworks.ts.
  npm(['install', '@switchboard/shell', '@switchboard/react', '@switchboard/vue', ...['react', 'react-dom', 'vue'].map((p) => `${p}@${versionOf(p)}`)], project);
  npm(['install', '-D', ...['@types/react', '@types/react-dom'].map((p) => `${p}@${versionOf(p)}`)], project);
  for (const name of named) {
    const installed = readdirSync(join(project, 'node_modules', name));
    if (!installed.includes('dist')) throw new Error(`${name} installed without dist/: ${installed.join(', ')}`);
  }
  // They can only have come from the local registry: it never asks upstream for @switchboard/*.
  step('the install page\'s packages installed from the local registry, each with dist/');

  // (c) Type-check a page and a server under both resolutions.
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
    execFileSync(process.execPath, [tsc, '-p', config], {cwd: project, env, stdio: 'inherit'});
  }
  step('type-checked with NodeNext and Bundler');

  // (b) Build the page with Vite (the repository's Vite, on the consumer's sources and node_modules).
  await build({configFile: false, root: project, logLevel: 'warn', build: {outDir: join(project, 'dist'), target: 'es2022'}});
  step('page built with Vite');

  // (a) The hub from plain Node; the official client receives a push.
  const child = spawn(process.execPath, ['server.mjs'], {cwd: project, env: {...env, LOG_LEVEL: 'warn'}, stdio: ['ignore', 'pipe', 'inherit']});
  server = child;
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\S+)/.exec(out);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`node server.mjs exited with ${code} before listening: ${out}`)));
  });
  const pushed = JSON.parse(execFileSync(process.execPath, ['client.mjs', url], {cwd: project, env, stdio: ['ignore', 'pipe', 'inherit']}).toString()) as {topic: string; event: {data: unknown}};
  if (pushed.topic !== 'greetings' || JSON.stringify(pushed.event.data) !== '{"text":"hello from node"}') throw new Error(`unexpected push ${JSON.stringify(pushed)}`);
  step('hub from plain Node pushed to the official client');

  // (b) The page in Chromium: it follows the topic through the bridge; a server event reaches the element.
  const browser = await chromium.launch({executablePath: findChromium(), args: CHROMIUM_ARGS});
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(url);
    await page.waitForSelector('hello-board[data-following="greetings"]', {state: 'attached', timeout: 15_000});
    const envelope = {id: 'consumer-1', type: 'greeting.sent', version: 1, time: new Date().toISOString(), source: 'consumer:test', correlationId: 'consumer-1', data: {text: 'hello from the hub'}};
    const response = await fetch(`${url}/api/topics/greetings/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(envelope)});
    if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
    await page.locator('hello-board li', {hasText: 'hello from the hub'}).waitFor({timeout: 15_000});
    if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join(' | ')}`);
  } finally {
    await browser.close();
  }
  step('page built from the published packages ran in Chromium and received a server event');
  server.kill('SIGTERM');

  // (d) The scaffolder: each template's docs line, then the project's own npm test.
  const notRun = await checkScaffolds({root, workDir: join(project, 'created'), env, published: new Set(published.map((p) => p.name)), step});
  for (const why of notRun) console.log(`consumer: NOT RUN: the ${why} template`);
  console.log(`consumer: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`consumer: FAILED (project kept at ${project})`);
  console.error(error);
  process.exitCode = 1;
} finally {
  server?.kill('SIGTERM');
  await registry?.stop();
  if (process.exitCode !== 1) rmSync(project, {recursive: true, force: true});
}
