import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {createConnection, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** A real `redis-server` child process on a loopback port, with its own temporary directory. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Its working directory (AOF and RDB files), removed by {@link RedisServer.stop}. */
  readonly dir: string;
  /** Kills the process (SIGKILL: like a crash, so only what AOF kept survives); the directory stays. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): its sockets stay open, it answers nothing, as when it swaps or its VM pauses. */
  pause(): void;
  /** Lets a paused process run on (SIGCONT); it then runs what it was sent meanwhile. */
  resume(): void;
  /** Starts it again on the same port and directory, after {@link RedisServer.kill}. */
  restart(): Promise<void>;
  /** Kills the process and removes its directory. */
  stop(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Append-only file: `true` or `'everysec'` (fsync once a second: a crash loses at most the last
   * second), `'always'` (fsync before each reply: a crash loses nothing acknowledged); off by default.
   */
  readonly aof?: boolean | 'everysec' | 'always';
  /** A port to use; a free one by default. */
  readonly port?: number;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number};
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Debian's `redis-server` on a free loopback port in a fresh temporary directory and resolves
 * once it answers PING. Always `stop()` it after the test.
 *
 * ```ts
 * const redis = await startRedis({aof: true});
 * try { ... redis.url ... } finally { await redis.stop(); }
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'yes',
    '--appendonly', options.aof === undefined || options.aof === false ? 'no' : 'yes',
    '--appendfsync', options.aof === 'always' ? 'always' : 'everysec', '--loglevel', 'warning',
  ];
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, {stdio: ['ignore', 'ignore', 'pipe']});
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before answering: ${stderr}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPing(port, 10_000), exited]);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };
  await launch().catch(async (error: unknown) => {
    await kill();
    rmSync(dir, {recursive: true, force: true});
    throw error;
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

/** Resolves once something on `port` answers PING with PONG; rejects after `timeoutMs`. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({port, host: '127.0.0.1'});
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) socket.end();
    });
    socket.once('close', () => resolve(answer.startsWith('+PONG')));
    socket.once('error', () => {});
  });
}
