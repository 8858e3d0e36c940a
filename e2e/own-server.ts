/**
 * A demo server a spec controls itself: started as `npm start` serves (the built dist/, or the
 * private copy a spec names in STATIC_DIR), on a free loopback port, stopped and started again on
 * that same port (a server restart while pages stay open), and always stopped at the end.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {createServer} from 'node:net';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {testServerArgs} from '../scripts/test-servers';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as {port: number};
      probe.close(() => resolvePort(port));
    });
  });
}

/** Options of {@link OwnServer.start}. */
export interface OwnServerOptions {
  /** Paths that must answer 2xx before the server counts as started; default `/healthz`. */
  readonly readyPaths?: readonly string[];
  /** Run the kit's packages from their TypeScript sources (`--conditions=switchboard-source`) rather than their built `dist/`. */
  readonly fromSource?: boolean;
}

/** One demo server process, restartable on the same port. */
export class OwnServer {
  #child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly env: Readonly<Record<string, string>>,
    readonly options: OwnServerOptions,
  ) {}

  /** A server on a free port, started. */
  static async start(env: Readonly<Record<string, string>> = {}, options: OwnServerOptions = {}): Promise<OwnServer> {
    const server = new OwnServer(await freePort(), env, options);
    await server.start();
    return server;
  }

  /** Where it serves, e.g. `http://localhost:41234`. */
  get url(): string {
    return `http://localhost:${this.port}`;
  }

  /** The running process's id (a restart gives another). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the process and resolves once every ready path answers (a busy machine gets 60 s). */
  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    const child = spawn(process.execPath, testServerArgs(this.options.fromSource === true ? 'demo-server' : 'demo-server-dist'), {
      cwd: root,
      env: {...process.env, PORT: String(this.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHIPPING_DELAY_MS: '100', ...this.env},
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#child = child;
    const paths = this.options.readyPaths ?? ['/healthz'];
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      try {
        const answers = await Promise.all(paths.map((p) => fetch(`${this.url}${p}`)));
        if (answers.every((a) => a.ok)) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer ${paths.join(' and ')} on ${this.url} within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the process (SIGTERM: it closes its connections) and resolves once it exited. */
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
