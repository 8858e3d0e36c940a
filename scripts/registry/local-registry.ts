/**
 * A real npm registry on a free loopback port: Verdaccio, with its storage in a temporary folder.
 * The kit's own names (`@switchboard/*`, `create-switchboard`) live only here, never looked up
 * upstream, so what a test installs is what the release published; every other package is proxied
 * from the registry this machine's npm uses (`npm config get registry`), so a consumer project
 * can install lit, zod or vite through it as a user would from npmjs.
 *
 * `npm run registry` starts one on http://127.0.0.1:4873/ (`-- --port <n>` for another port),
 * builds and publishes every public package to it, and keeps it running until Ctrl-C.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {release} from '../release';

const here = dirname(fileURLToPath(import.meta.url));

/** A running local registry. */
export interface LocalRegistry {
  /** Base URL, with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** An npm user config file holding a publish token for this registry (nothing else). */
  readonly userconfig: string;
  /** `process.env` plus `npm_config_userconfig`, for npm processes that publish. */
  readonly env: NodeJS.ProcessEnv;
  /** Stops Verdaccio and deletes its storage. */
  stop(): Promise<void>;
}

/** Where {@link startLocalRegistry} proxies from and keeps its files. */
export interface LocalRegistryOptions {
  /** Registry to proxy everything but the kit's names from; npm's configured one by default. */
  readonly upstream?: string;
  /** Loopback port; 0 (a free one) by default. */
  readonly port?: number;
  /** Verdaccio's log level (`warn` by default). */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'http';
}

/** The names that must come from the local registry only. */
export const LOCAL_ONLY = ['@switchboard/*', 'create-switchboard'] as const;

const npmConfig = (key: string): string | undefined => {
  const value = execFileSync('npm', ['config', 'get', key], {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: ''}}).trim();
  return value === '' || value === 'null' || value === 'undefined' ? undefined : value;
};

/** Starts Verdaccio in a child process and registers a publishing user; see {@link LocalRegistry}. */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-registry-'));
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  const upstream = options.upstream ?? npmConfig('registry') ?? 'https://registry.npmjs.org/';
  const local = {access: '$all', publish: '$authenticated', unpublish: '$authenticated'};
  const config = {
    self_path: join(dir, 'config.yaml'),
    storage,
    auth: {htpasswd: {file: join(dir, 'htpasswd'), max_users: 10}},
    uplinks: {upstream: {url: upstream, timeout: '60s', maxage: '30m', max_fails: 5}},
    packages: {
      ...Object.fromEntries(LOCAL_ONLY.map((name) => [name, local])),
      '**': {access: '$all', publish: '$authenticated', proxy: 'upstream'},
    },
    web: {enable: false},
    max_body_size: '50mb',
    log: {type: 'stdout', format: 'pretty', level: options.logLevel ?? 'warn'},
  };
  // Node trusts its own CA list, npm the file its config names: give Verdaccio's uplink the same.
  const cafile = npmConfig('cafile');
  const child: ChildProcess = spawn(process.execPath, [join(here, 'verdaccio-process.mjs'), JSON.stringify(config), String(options.port ?? 0)], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {...process.env, NODE_OPTIONS: '', ...(cafile !== undefined && existsSync(cafile) ? {NODE_EXTRA_CA_CERTS: cafile} : {})},
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    rmSync(dir, {recursive: true, force: true});
  };
  try {
    const url = await new Promise<string>((ready, fail) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /verdaccio listening (\S+)/.exec(out);
        if (match) ready(`${match[1]!}/`);
        if (out.length > 100_000) out = out.slice(-1_000);
      });
      child.once('exit', (code) => fail(new Error(`verdaccio exited with ${code} before listening: ${out}`)));
      setTimeout(() => fail(new Error(`verdaccio did not listen within 30 s: ${out}`)), 30_000).unref();
    });
    child.stdout!.resume();
    const user = 'release';
    const response = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({name: user, password: randomBytes(12).toString('hex'), type: 'user', roles: [], date: new Date().toISOString()}),
    });
    const {token} = (await response.json()) as {token?: string};
    if (response.status !== 201 || token === undefined) throw new Error(`verdaccio refused to add the publishing user: ${response.status}`);
    const userconfig = join(dir, 'npmrc');
    writeFileSync(userconfig, `${url.replace(/^https?:/, '')}:_authToken=${token}\n`);
    return {url, userconfig, env: {...process.env, npm_config_userconfig: userconfig}, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {port: {type: 'string', default: '4873'}}});
  const registry = await startLocalRegistry({port: Number(values.port)});
  const shutdown = () => void registry.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  try {
    const {published} = await release({registry: registry.url, env: registry.env});
    console.log(`\nA local registry runs at ${registry.url} with ${published.map((p) => `${p.name}@${p.version}`).join(', ')}.`);
    console.log(`In your project: npm config set registry ${registry.url} --location=project`);
    console.log('Ctrl-C stops it and deletes what was published.');
  } catch (error) {
    console.error((error as Error).message);
    await registry.stop();
    process.exit(1);
  }
}
