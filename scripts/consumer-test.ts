/**
 * `npm run test:consumer`: the kit as a user gets it. Starts a real npm registry (Verdaccio, on a
 * free loopback port, see scripts/registry/local-registry.ts) and publishes every public package to
 * it with the release script. Then, in a folder outside the repository:
 * (a) follows the getting-started pages word for word (scripts/consumer-walk.ts): the shell lines
 *     of docs/getting-started/install.md and docs/guide/testing.md as written (npm pointed at the
 *     registry by the page's own `npm config set registry` line), the files they name written with
 *     their text; so the page is built with Vite, `node server.mjs` serves it, Chromium shows what
 *     the page's `curl` published, and `npx playwright test` passes;
 * (b) in that project, type-checks the page and a typed server with `moduleResolution` `NodeNext`
 *     and `Bundler`, and has the official `@microsoft/signalr` client in Node receive a push from
 *     the page's `server.mjs`;
 * (c) every `npm create switchboard@latest` line of docs/guide/scaffold.md makes a project whose
 *     own `npm install` and `npm test` must pass.
 * Exits non-zero on the first failure.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {findChromium} from './chromium';
import {checkScaffolds} from './consumer-scaffold';
import {walkGettingStarted} from './consumer-walk';
import {docsCommands} from './docs-commands';
import {startLocalRegistry, type LocalRegistry} from './registry/local-registry';
import {release} from './release';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const step = (what: string) => console.log(`consumer: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** The page whose install lines must name every package the checks use. */
const INSTALL_PAGE = 'docs/getting-started/install.md';

const project = mkdtempSync(join(tmpdir(), 'switchboard-consumer-'));
let server: ChildProcess | undefined;
let registry: LocalRegistry | undefined;
let scaffolds: Promise<string[]> | undefined;
try {
  registry = await startLocalRegistry();
  step(`a local registry runs at ${registry.url}`);
  const {published} = await release({registry: registry.url, env: registry.env, log: () => {}});
  step(`npm run release built and published ${published.map((p) => p.name).join(', ')}`);

  /** Children run as a user's would: without this repository's `switchboard-source` condition, npm configured for the local registry. */
  const env = {...process.env, NODE_OPTIONS: '', npm_config_node_options: '', npm_config_registry: registry.url, CHROMIUM_PATH: findChromium()};
  // (c) starts now, beside (a) and (b): the projects share nothing with the walk's, and much of
  // each lane is npm waiting on the registry (and the registry on its upstream), which the other
  // lanes' work fills.
  scaffolds = checkScaffolds({root, workDir: join(project, 'created'), env, published: new Set(published.map((p) => p.name)), step});
  scaffolds.catch(() => {}); // awaited below; a failure must not be unhandled while (a) and (b) run
  const npm = (args: readonly string[], cwd: string) =>
    execFileSync('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {cwd, env, stdio: ['ignore', 'pipe', 'inherit']}).toString();

  // (a) The getting-started pages, word for word. The reader's npm finds the registry through the
  // page's own `npm config set registry` line, so the environment names none.
  const {npm_config_registry: _fromEnv, ...readerEnv} = env;
  const walkDir = join(project, 'walk');
  mkdirSync(walkDir);
  const walked = await walkGettingStarted({
    root,
    workDir: walkDir,
    registryUrl: registry.url,
    env: {...readerEnv, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'error'},
    step,
  });
  const app = walked.project;
  const lines = docsCommands(readFileSync(join(root, INSTALL_PAGE), 'utf8'), 'npm install');
  const named = new Set(lines.flatMap((c) => c.argv.filter((w) => w.startsWith('@switchboard/'))));
  for (const needed of ['@switchboard/contracts', '@switchboard/bus', '@switchboard/lit', '@switchboard/signalr', '@switchboard/hub', '@switchboard/testing']) {
    if (!named.has(needed)) throw new Error(`${INSTALL_PAGE} no longer shows "npm install ${needed}": the checks below need it`);
  }
  for (const name of named) {
    const installed = readdirSync(join(app, 'node_modules', name));
    if (!installed.includes('dist')) throw new Error(`${name} installed without dist/: ${installed.join(', ')}`);
  }
  // They can only have come from the local registry: it never asks upstream for @switchboard/*.
  step('the walk\'s packages came from the local registry, each with dist/');

  // (b) What the checks use beyond the pages: Node's types for tsc, the official client for
  // client.mjs, the shell runtime and the framework bindings with their peers for frameworks.ts.
  const checks = join(app, 'checks');
  cpSync(join(root, 'scripts/consumer'), checks, {recursive: true});
  const versionOf = (pkg: string) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {version: string}).version;
  // Two installs (each a resolution of the whole tree, seconds here), one per dependency kind.
  npm(['install', '-D', ...['@types/node', '@microsoft/signalr', '@types/react', '@types/react-dom'].map((p) => `${p}@${versionOf(p)}`)], app);
  npm(['install', '@switchboard/shell', '@switchboard/react', '@switchboard/vue', ...['react', 'react-dom', 'vue'].map((p) => `${p}@${versionOf(p)}`)], app);
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
    execFileSync(process.execPath, [tsc, '-p', config], {cwd: checks, env, stdio: 'inherit'});
  }
  step('the page and a typed server type-checked with NodeNext and Bundler');
  // The page's server.mjs again (stopped by the walk: the installs above changed node_modules under it).
  const child = spawn(process.execPath, ['server.mjs'], {cwd: app, env: {...env, PORT: '0', LOG_LEVEL: 'warn'}, stdio: ['ignore', 'pipe', 'inherit']});
  server = child;
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`node server.mjs exited with ${code} before listening: ${out}`)));
  });
  const pushed = JSON.parse(execFileSync(process.execPath, ['client.mjs', url], {cwd: checks, env, stdio: ['ignore', 'pipe', 'inherit']}).toString()) as {topic: string; event: {data: unknown}};
  if (pushed.topic !== 'greetings' || JSON.stringify(pushed.event.data) !== '{"text":"hello from node"}') throw new Error(`unexpected push ${JSON.stringify(pushed)}`);
  step('the page\'s server.mjs pushed to the official client in Node');
  server.kill('SIGTERM');

  // (c) The scaffolder: each template's docs line, then the project's own npm test.
  const notRun = await scaffolds;
  for (const why of notRun) console.log(`consumer: NOT RUN: the ${why} template`);
  console.log(`consumer: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`consumer: FAILED (project kept at ${project})`);
  console.error(error);
  process.exitCode = 1;
} finally {
  server?.kill('SIGTERM');
  // Its projects' processes end before the registry they install from goes away.
  await scaffolds?.catch(() => undefined);
  await registry?.stop();
  if (process.exitCode !== 1) rmSync(project, {recursive: true, force: true});
}
