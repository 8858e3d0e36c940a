import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import amqp from 'amqplib';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** A private `rabbitmq-server` (Debian's, 3.10) on loopback ports, with its own data directory and epmd. */
export interface RabbitServer {
  /** `amqp://guest:guest@127.0.0.1:<port>` (the default vhost `/`). */
  readonly url: string;
  readonly port: number;
  /** The Web-STOMP port when started with `webStomp: true` (STOMP over WebSocket at `ws://127.0.0.1:<port>/ws`). */
  readonly webStompPort: number | undefined;
  /** The Erlang node name, for `rabbitmqctl -n`. */
  readonly node: string;
  readonly dir: string;
  /** An AMQP URL on a fresh vhost (created on first use): one per test keeps tests apart on a shared broker. */
  vhost(name?: string): Promise<string>;
  /** Runs `rabbitmqctl` against this node (about a second: it boots an Erlang VM); resolves with its stdout. */
  ctl(...args: string[]): Promise<string>;
  /** SIGKILL, like a crash: what the broker had not written is lost; the directory stays. */
  kill(): Promise<void>;
  /** A clean shutdown (SIGTERM; the broker stops its queues and exits). */
  shutdown(): Promise<void>;
  /** Starts it again on the same ports and data after {@link kill} or {@link shutdown}. */
  restart(): Promise<void>;
  /** Stops the broker and its epmd and removes the directory. */
  stop(): Promise<void>;
}

/** Options of {@link startRabbit}. */
export interface StartRabbitOptions {
  /** Enables `rabbitmq_web_stomp` on a free port. */
  readonly webStomp?: boolean;
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

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/** The `rabbitmq` user's ids when running as root (the broker refuses to run as root), else none. */
function brokerUser(): {uid: number; gid: number} | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'rabbitmq']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'rabbitmq']).stdout.toString().trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('no "rabbitmq" user: install Debian\'s rabbitmq-server');
  return {uid, gid};
}

function chownTree(path: string, user: {uid: number; gid: number}): void {
  chownSync(path, user.uid, user.gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), user);
}

/**
 * Starts Debian's `rabbitmq-server` on free loopback ports, in a fresh temporary directory, with a
 * private `epmd` on a port of its own (so brokers of parallel test runs never share or kill one),
 * and resolves once it accepts AMQP (~6 s). Share one per test file and give each test its own
 * vhost; always `stop()` it.
 *
 * ```ts
 * const rabbit = await startRabbit();
 * try { const url = await rabbit.vhost(); ... } finally { await rabbit.stop(); }
 * ```
 */
export async function startRabbit(options: StartRabbitOptions = {}): Promise<RabbitServer> {
  const [port, distPort, epmdPort, stompPort] = await Promise.all([freePort(), freePort(), freePort(), options.webStomp === true ? freePort() : Promise.resolve(undefined)]);
  const dir = mkdtempSync(join(tmpdir(), 'sb-rabbit-'));
  const node = `sb${randomBytes(5).toString('hex')}@localhost`;
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'enabled_plugins'), options.webStomp === true ? '[rabbitmq_web_stomp].' : '[].');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      'loopback_users.guest = true',
      // Tests share a busy machine: a low watermark alarm would block publishers for reasons of its own.
      'vm_memory_high_watermark.absolute = 1GB',
      'disk_free_limit.absolute = 10MB',
      ...(stompPort === undefined ? [] : [`web_stomp.tcp.port = ${stompPort}`, 'web_stomp.tcp.ip = 127.0.0.1']),
      '',
    ].join('\n'),
  );
  const user = brokerUser();
  if (user !== undefined) chownTree(dir, user);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir, // the Erlang cookie is made here, shared by the broker and rabbitmqctl
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    // The script then execs the Erlang VM itself: the child's pid is the broker's.
    RUNNING_UNDER_SYSTEMD: 'true',
  };
  const ids = user === undefined ? {} : {uid: user.uid, gid: user.gid};
  // Our own epmd in the foreground, so it is ours to stop (a broker would start one as a daemon).
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], {stdio: 'ignore', env, ...ids});
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(SERVER, [], {stdio: ['ignore', 'ignore', 'pipe'], env, cwd: dir, ...ids});
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`rabbitmq-server exited (${code}) before accepting AMQP: ${stderr} (logs in ${dir}/log)`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForAmqp(port, 150_000), exited]);
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };
  const ctl = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const run = spawn(CTL, ['-n', node, ...args], {env, cwd: dir, ...ids, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000});
      let out = '';
      let err = '';
      run.stdout.on('data', (d: Buffer) => (out += d.toString()));
      run.stderr.on('data', (d: Buffer) => (err += d.toString()));
      run.once('error', reject);
      run.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rabbitmqctl ${args.join(' ')} failed (${code}): ${err || out}`))));
    });
  const stop = async (): Promise<void> => {
    await end('SIGKILL');
    epmd.kill('SIGKILL');
    rmSync(dir, {recursive: true, force: true});
  };
  await launch().catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  let vhosts = 0;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    webStompPort: stompPort,
    node,
    dir,
    async vhost(name = `t${++vhosts}-${randomBytes(3).toString('hex')}`) {
      if (/^[\w.-]+$/.test(name)) {
        // One rabbitmqctl (one Erlang VM boot, seconds on a busy machine) for what `add_vhost` and `set_permissions` do in two.
        const out = await ctl('eval', `ok = rabbit_vhost:add(<<"${name}">>, <<"tests">>), ok = rabbit_auth_backend_internal:set_permissions(<<"guest">>, <<"${name}">>, <<".*">>, <<".*">>, <<".*">>, <<"tests">>), done.`);
        if (!out.includes('done')) throw new Error(`rabbitmqctl eval did not make vhost ${name}: ${out}`);
      } else {
        await ctl('add_vhost', name);
        await ctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
      }
      return `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    ctl,
    kill: () => end('SIGKILL'),
    shutdown: () => end('SIGTERM'),
    restart: launch,
    stop,
  };
}

/** Resolves once the broker on `port` opens an AMQP connection and a channel for guest (it boots in stages: the port opens first). */
async function waitForAmqp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await opens(port)) return;
    if (Date.now() > deadline) throw new Error(`rabbitmq-server on port ${port} did not accept AMQP within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function opens(port: number): Promise<boolean> {
  try {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    connection.on('error', () => {});
    try {
      await (await connection.createChannel()).close();
      return true;
    } finally {
      await connection.close().catch(() => {});
    }
  } catch {
    return false;
  }
}
