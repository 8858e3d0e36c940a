/**
 * `npm run cluster`: a local Switchboard cluster in one command. Starts redis-server on a free port
 * (AOF everysec, in a temporary directory), two hub nodes on it (`REDIS_URL`), and nginx in front
 * (deploy/nginx.conf, sticky by cookie), then prints the URL. Ctrl-C stops all of it.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {freePort, startRedis, type RedisServer} from '../packages/hub/test/redis-server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A running cluster: the balancer's URL, each node's, and how to stop everything. */
export interface Cluster {
  readonly url: string;
  readonly nodes: ReadonlyArray<{readonly name: string; readonly url: string; readonly process: ChildProcess}>;
  readonly redis: RedisServer;
  /** Kills one node at once (SIGKILL), as a crash would. */
  kill(name: string): Promise<void>;
  /** Starts a killed node again on its port. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Redis, two hub nodes and nginx; `log` receives their output lines. `serverArgs` are the
 * Node arguments that start a node (the demo's server through tsx by default; tests pass a bundle).
 */
export async function startCluster(options: {port?: number; log?: (line: string) => void; env?: Record<string, string>; serverArgs?: readonly string[]} = {}): Promise<Cluster> {
  const log = options.log ?? (() => {});
  // Check the balancer before starting anything, so a missing nginx leaves no redis-server or node behind.
  const probe = spawnSync('nginx', ['-v'], {stdio: 'ignore'});
  if (probe.error !== undefined) throw new Error(`nginx is needed for the cluster's balancer and was not found (${probe.error.message}); on Debian: apt-get install nginx`);
  const redis = await startRedis({aof: 'everysec'});
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sb-cluster-'));
  chmodSync(dir, 0o777);
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => exit(child, 'SIGTERM')));
    await redis.stop();
    rmSync(dir, {recursive: true, force: true});
  };
  try {
    const nodes: Array<{name: string; url: string; process: ChildProcess; port: number}> = [];
    const launch = async (name: string, port: number): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [...(options.serverArgs ?? ['--import', 'tsx', join(root, 'server/src/main.ts')])], {
        cwd: root,
        env: {...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redis.url, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
          // The nodes write into a pipe; their lines reach a terminal here, so make them readable there.
          LOG_FORMAT: process.env['LOG_FORMAT'] ?? (process.stdout.isTTY ? 'pretty' : 'json')},
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      pipe(child, `node-${name}`, log);
      await waitForLine(child, 'Switchboard is running', 60_000);
      return child;
    };
    // Both nodes start at once: a node's start-up is seconds of CPU, mostly waiting on nothing but itself.
    const ports = [await freePort()];
    // Nothing holds the first port yet, so the second probe could be handed it again.
    while (ports.length < 2) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const started = await Promise.allSettled(['a', 'b'].map(async (name, i) => ({name, url: `http://127.0.0.1:${ports[i]!}`, process: await launch(name, ports[i]!), port: ports[i]!})));
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const port = options.port ?? (await freePort());
    const conf = readFileSync(join(root, 'deploy/nginx.conf'), 'utf8')
      .replaceAll('{{DIR}}', dir)
      .replaceAll('{{PORT}}', String(port))
      .replaceAll('{{PORT_A}}', String(nodes[0]!.port))
      .replaceAll('{{PORT_B}}', String(nodes[1]!.port));
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], {stdio: ['ignore', 'pipe', 'pipe']});
    const failed = new Promise<never>((_, reject) => nginx.once('error', (error) => reject(new Error(`nginx did not start: ${error.message}`))));
    failed.catch(() => {});
    children.push(nginx);
    pipe(nginx, 'nginx', log);
    await Promise.race([waitForHttp(`http://127.0.0.1:${port}/healthz`, 15_000), failed]);
    return {
      url: `http://localhost:${port}`,
      get nodes() {
        return nodes.map(({name, url, process}) => ({name, url, process}));
      },
      redis,
      async kill(name) {
        const node = nodes.find((n) => n.name === name);
        if (node !== undefined) await exit(node.process, 'SIGKILL');
      },
      async restart(name) {
        const node = nodes.find((n) => n.name === name);
        if (node !== undefined && node.process.exitCode === null && node.process.signalCode === null) return;
        if (node !== undefined) node.process = await launch(name, node.port);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function pipe(child: ChildProcess, name: string, log: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line !== '') log(`[${name}] ${line}`);
    });
  }
}

function waitForLine(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms`)), ms);
    const check = (d: Buffer) => {
      if (!d.toString().includes(text)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before "${text}"`));
    });
  });
}

async function waitForHttp(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  // A child that never started (spawn error) has no pid and will never emit 'exit'.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
    child.kill(signal);
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(root, 'dist/index.html'))) {
    console.error('Nothing is built yet: run "npm run build" first, then "npm run cluster" (the nodes serve dist/).');
    process.exit(1);
  }
  const cluster = await startCluster({port: Number(process.env['PORT'] ?? 0) || undefined, log: (line) => console.log(line)});
  console.log(`Switchboard cluster: ${cluster.url}  (nodes ${cluster.nodes.map((n) => n.url).join(', ')}, Redis ${cluster.redis.url}, nginx)  Ctrl-C stops it.`);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log('Stopping the cluster…');
      void cluster.stop().then(() => process.exit(0));
    });
  }
}
