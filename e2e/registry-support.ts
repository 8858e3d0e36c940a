/**
 * What the deploy specs need: a private copy of the build (so deploys and "rebuilds" touch no other
 * spec's server), demo servers on it with their own registry, the `switchboard` CLI, and app
 * versions laid out as `npm run build:app` lays them out (dist/deploys/<app>/<version>-<hash>/).
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createHash, randomUUID} from 'node:crypto';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {freePort} from './own-server';

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

/** A demo server process with its own registry. */
export class DemoServer {
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly env: Readonly<Record<string, string>>,
  ) {}

  static async start(env: Readonly<Record<string, string>>): Promise<DemoServer> {
    const server = new DemoServer(await freePort(), env);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://localhost:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', 'server/src/main.ts'], {
      cwd: root,
      env: {...process.env, PORT: String(this.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHIPPING_DELAY_MS: '100', ...this.env},
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok && (await fetch(`${this.url}/composition.json`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer on ${this.url} within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Runs `switchboard <args>` (the package's CLI) against `server`; its exit code and output. */
export function cli(server: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', 'packages/registry/src/cli/main.ts', ...args, '--server', server], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
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
