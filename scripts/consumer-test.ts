/**
 * `npm run test:consumer`: the kit as a user gets it. Packs every public package, installs the
 * tarballs into a fresh project in a temporary folder (from the npm cache when it can), and there:
 * (a) starts `@switchboard/hub` with plain Node and has the official `@microsoft/signalr` client
 * receive a push; (b) builds a page that uses `bus`, `lit` and `signalr` with Vite and runs it in
 * Chromium against that server; (c) type-checks a page and a server with `moduleResolution`
 * `NodeNext` and `Bundler`. The project lives outside the repository, so nothing resolves to the
 * workspace: only what the tarballs contain counts. Exits non-zero on the first failure.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from '@playwright/test';
import {build} from 'vite';
import {buildPackages, PUBLIC_PACKAGES} from './build-packages';
import {CHROMIUM_ARGS, findChromium} from './chromium';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const step = (what: string) => console.log(`consumer: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** Children run as a user's would: without this repository's `switchboard-source` condition. */
const env = {...process.env, NODE_OPTIONS: '', npm_config_node_options: ''};
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {cwd, env, stdio: ['ignore', 'pipe', 'inherit']}).toString();

const project = mkdtempSync(join(tmpdir(), 'switchboard-consumer-'));
let server: ChildProcess | undefined;
try {
  buildPackages();
  step('packages built');

  // (0) Pack and install, as from the registry.
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  npm(['pack', '--pack-destination', tarballs, ...PUBLIC_PACKAGES.flatMap((name) => ['-w', `packages/${name}`])], root);
  const files = readdirSync(tarballs);
  const dependencies: Record<string, string> = {};
  for (const name of PUBLIC_PACKAGES) {
    const tarball = files.find((f) => f.startsWith(`switchboard-${name}-`));
    if (tarball === undefined) throw new Error(`no tarball for @switchboard/${name} in ${files.join(', ')}`);
    dependencies[`@switchboard/${name}`] = `file:./tarballs/${tarball}`;
  }
  const versionOf = (pkg: string) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {version: string}).version;
  for (const pkg of ['@microsoft/signalr', 'lit', 'zod', 'pino', '@types/node', 'react', 'react-dom', '@types/react', '@types/react-dom', 'vue']) dependencies[pkg] = versionOf(pkg);
  // The kit's packages depend on each other by version; the overrides point those at the tarballs too.
  const overrides = Object.fromEntries(PUBLIC_PACKAGES.map((name) => [`@switchboard/${name}`, `$@switchboard/${name}`]));
  writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module', dependencies, overrides}, null, 2));
  cpSync(join(root, 'scripts/consumer'), project, {recursive: true});
  npm(['install', '--prefer-offline', '--ignore-scripts'], project);
  step('tarballs installed');
  for (const name of PUBLIC_PACKAGES) {
    const installed = readdirSync(join(project, 'node_modules/@switchboard', name));
    if (!installed.includes('dist')) throw new Error(`@switchboard/${name} installed without dist/: ${installed.join(', ')}`);
  }

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
  const child = spawn(process.execPath, ['server.mjs'], {cwd: project, env, stdio: ['ignore', 'pipe', 'inherit']});
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
  step('page built from the tarballs ran in Chromium and received a server event');
  console.log(`consumer: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`consumer: FAILED (project kept at ${project})`);
  console.error(error);
  process.exitCode = 1;
} finally {
  server?.kill('SIGTERM');
  if (process.exitCode !== 1) rmSync(project, {recursive: true, force: true});
}
