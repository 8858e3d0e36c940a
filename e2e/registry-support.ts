/**
 * What the deploy specs need: a private copy of the build (so deploys and "rebuilds" touch no other
 * spec's server), demo servers on it with their own registry (an {@link OwnServer}), the `switchboard` CLI, and app
 * versions laid out as `npm run build:app` lays them out (dist/deploys/<app>/<version>-<hash>/).
 */
import {spawn} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {createHash, randomUUID} from 'node:crypto';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect, type Page} from '@playwright/test';
import {testServerArgs} from '../scripts/test-servers';
import {OwnServer} from './own-server';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A copy of dist/ in a temporary folder, and a data directory beside it. */
export function privateBuild(): {dist: string; data: string; remove: () => void} {
  const base = mkdtempSync(join(tmpdir(), 'sb-deploy-e2e-'));
  const dist = join(base, 'dist');
  cpSync(join(root, 'dist'), dist, {recursive: true, filter: (src) => !src.includes(`${join(root, 'dist', 'deploys')}`)});
  const data = join(base, 'data');
  mkdirSync(data);
  return {dist, data, remove: () => rmSync(base, {recursive: true, force: true})};
}

/** A demo server with its own registry (as `env` says), the kit from source as the CLI runs it, started once it composes pages. */
export function startDemo(env: Readonly<Record<string, string>>): Promise<OwnServer> {
  return OwnServer.start(env, {readyPaths: ['/healthz', '/composition.json'], fromSource: true});
}

/** Runs `switchboard <args>` (the package's CLI) against `server`; its exit code and output. */
export function cli(server: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [...testServerArgs('registry-cli'), ...args, '--server', server], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({code: code ?? -1, out, err});
    });
  });
}

interface SeedRecord {
  name: string;
  version: string;
  module: string;
  standalone?: string;
  publishes: string[];
  consumes: string[];
  [key: string]: unknown;
}

const sri = (bytes: Buffer | string) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

/** The build's record of `name` (from the private build's seed). */
export function seedRecord(dist: string, name: string): SeedRecord {
  const seed = JSON.parse(readFileSync(join(dist, 'registry-seed.json'), 'utf8')) as {records: SeedRecord[]};
  const record = seed.records.find((r) => r.name === name);
  if (record === undefined) throw new Error(`no ${name} in the build`);
  return record;
}

/**
 * Lays out `version` of app `name` as `npm run build:app` does: the build's module bytes plus a
 * line naming the version (so it is another file), in dist/deploys/<name>/<version>-<hash>/ with its
 * deploy.json; `changes` alter the record (a lying integrity, a missing module, other contracts).
 */
export function appVersion(dist: string, name: string, version: string, changes: Partial<SeedRecord> = {}, body?: string): string {
  const base = seedRecord(dist, name);
  const folder = `${version}-${randomUUID().slice(0, 8)}`;
  const dir = join(dist, 'deploys', name, folder);
  mkdirSync(dir, {recursive: true});
  const shared = body ?? `${readFileSync(join(dist, base.module)).toString()}\n// ${name} ${version}\n`;
  const alone = `${readFileSync(join(dist, base.standalone!)).toString()}\n// ${name} ${version}\n`;
  writeFileSync(join(dir, `${name}.js`), shared);
  writeFileSync(join(dir, `${name}.standalone.js`), alone);
  const url = `/deploys/${name}/${folder}`;
  const {kind: _k, ...rest} = base;
  const record = {...rest, kind: 'app', version, module: `${url}/${name}.js`, integrity: sri(shared), standalone: `${url}/${name}.standalone.js`, standaloneIntegrity: sri(alone), ...changes};
  writeFileSync(join(dir, 'deploy.json'), JSON.stringify(record, null, 2));
  return dir;
}

/** What the specs read of a page's composition. */
export interface PageComposition {
  revision: string;
  environment: string;
  overridesAllowed: boolean;
  apps: Array<{name: string; version: string; module: string; standalone?: string; channel?: string}>;
  overrides?: string[];
  refusedOverrides?: Array<{name: string; url: string; reason: string}>;
}

/** The composition in the page (as the server put it, with overrides applied where allowed). */
export async function compositionOf(page: Page): Promise<PageComposition> {
  return JSON.parse((await page.locator('#switchboard-composition').textContent()) ?? '{}') as PageComposition;
}

/** The version of app `name` a composition gives. */
export const versionIn = (c: PageComposition, name: string): string | undefined => c.apps.find((a) => a.name === name)?.version;

/** Readiness waits allow for a busy machine (these specs run their own servers and CLI processes). */
export const slow = expect.configure({timeout: 30_000});

/** Opens the demo shell at `path` and waits until the hub is connected and every tile is ready. */
export async function openShell(page: Page, path = '/'): Promise<void> {
  await page.goto(path);
  await slow(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
  await slow(page.locator('.tile:not([data-state])')).toHaveCount(0);
  await slow(page.locator('.tile[data-state="loading"]')).toHaveCount(0);
  await slow(page.locator('.tile[data-state="ready"]')).toHaveCount(await page.locator('.tile').count());
}

/** A plain HTTP server on loopback answering every path with `body` as JavaScript (any origin may load it); the paths asked. */
export async function moduleServer(body: string): Promise<{url: string; asked: string[]; close: () => Promise<void>}> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(200, {'content-type': 'text/javascript', 'access-control-allow-origin': '*'});
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}`, asked, close: () => new Promise((r) => server.close(() => r()))};
}

/**
 * A copy of apps/<name> in a temporary folder, beside what its files expect (tsconfig.base.json,
 * node_modules), so an edit touches no file of the repository.
 */
export function appCopy(name: string): {dir: string; remove: () => void} {
  const base = mkdtempSync(join(tmpdir(), 'sb-app-copy-'));
  const dir = join(base, 'apps', name);
  cpSync(join(root, 'apps', name), dir, {recursive: true});
  cpSync(join(root, 'tsconfig.base.json'), join(base, 'tsconfig.base.json'));
  symlinkSync(join(root, 'node_modules'), join(base, 'node_modules'), 'dir');
  return {dir, remove: () => rmSync(base, {recursive: true, force: true})};
}

/** `npm run dev:app -- <name> --dir <dir> --port 0` in a process group of its own; the URL it prints, and how to stop it. */
export async function startDevApp(name: string, dir: string): Promise<{url: string; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', 'scripts/dev-app.ts', name, '--dir', dir, '--port', '0'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`npm run dev:app printed no URL within 60 s: ${out}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const found = /override URL: (\S+)/.exec(out);
        if (found === null) return;
        clearTimeout(timer);
        resolveUrl(found[1]!);
      });
      void exited.then(() => reject(new Error(`npm run dev:app exited with ${child.exitCode}: ${out}`)));
    });
    return {url, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
