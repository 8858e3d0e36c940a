/**
 * One handle for every broadcast server under test, whatever it runs on: the Node servers of
 * bench/broadcast/server.ts (driven over IPC) and the ASP.NET Core app of bench/aspnet (driven over
 * HTTP). CPU time and memory are read from each server's own process in /proc, the same way for all.
 */
import {spawn as spawnProcess, spawnSync, type ChildProcess} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {ask, spawn, stop, track} from '../lib';
import type {WindowStats} from '../server-commands';

/** The servers the benchmark compares. */
export type Kind = 'switchboard' | 'aspnet' | 'socketio' | 'ws';

/** What the harness does with a server under test. */
export interface ServerHandle {
  readonly kind: Kind;
  readonly port: number;
  readonly pid: number;
  /** Starts `count` broadcasts, `batch` per turn; resolves once they are under way, not delivered. */
  burst(count: number, batch: number, payload: object): Promise<void>;
  /** Broadcasts stamped messages at a fixed rate; resolves when the last was sent, with what held a Node server's event loop meanwhile. */
  rate(perSecond: number, durationMs: number, payload: object): Promise<WindowStats | undefined>;
  /** Connections the server holds now. */
  clients(): Promise<number>;
  /** Collects garbage and returns the managed heap in use (bytes). */
  heapUsed(): Promise<number>;
  stop(): Promise<void>;
}

/** How long a server may take to start or to answer the harness (ms). */
const STEP_MS = Number(process.env['BENCH_STEP_MS'] ?? 120_000);

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100;

/** CPU time (user + system, µs) a process has used so far, from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}

/** Resident set size (bytes) of a process, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

const ASPNET_DIR = 'bench/aspnet';
const ASPNET_DLL = `${ASPNET_DIR}/bin/Release/net10.0/AspNetBench.dll`;

/**
 * Builds the ASP.NET Core peer when the .NET SDK is on the machine. Returns a sentence saying why
 * it is skipped otherwise; the product never needs it.
 */
export function prepareAspNet(): string | undefined {
  const probe = spawnSync('dotnet', ['--list-runtimes'], {encoding: 'utf8'});
  if (probe.error !== undefined || probe.status !== 0) return 'ASP.NET Core skipped: no `dotnet` on this machine.';
  if (!probe.stdout.includes('Microsoft.AspNetCore.App 10.')) return 'ASP.NET Core skipped: the ASP.NET Core 10 runtime is not installed.';
  const build = spawnSync('dotnet', ['build', '-c', 'Release', '--nologo', '-v', 'q'], {cwd: ASPNET_DIR, encoding: 'utf8'});
  if (build.status !== 0 || !existsSync(ASPNET_DLL)) return `ASP.NET Core skipped: \`dotnet build\` failed:\n${build.stdout}${build.stderr}`;
  return undefined;
}

/** Starts one server of `kind`; `profile` adds --cpu-prof to Node servers (profiles land in ./profiles). */
export function startServer(kind: Kind, profile = false): Promise<ServerHandle> {
  return kind === 'aspnet' ? startAspNet() : startNode(kind, profile);
}

async function startNode(kind: Exclude<Kind, 'aspnet'>, profile: boolean): Promise<ServerHandle> {
  // BENCH_NODE_FLAGS (e.g. "--trace-gc-nvp") adds V8/Node flags to the Node servers, for profiling.
  const extra = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const flags = ['--expose-gc', ...extra, ...(profile ? ['--cpu-prof', '--cpu-prof-dir=profiles'] : [])];
  const child = spawn('bench/broadcast/server.ts', [kind], flags);
  const {port} = await ask<{port: number}>(child, undefined, 'ready', STEP_MS);
  return {
    kind,
    port,
    pid: child.pid!,
    burst: async (count, batch, payload) => void child.send({cmd: 'burst', count, batch, payload}),
    rate: (perSecond, durationMs, payload) => ask<WindowStats>(child, {cmd: 'rate', perSecond, durationMs, payload}, 'rate-sent', durationMs + STEP_MS),
    clients: async () => (await ask<{clients: number}>(child, {cmd: 'cpu'}, 'cpu', STEP_MS)).clients,
    heapUsed: async () => (await ask<{heapUsed: number}>(child, {cmd: 'memory'}, 'memory', STEP_MS)).heapUsed,
    stop: () => (profile ? exitNormally(child) : stop(child)),
  };
}

/** Asks a Node server to exit by itself, so --cpu-prof writes its profile. */
async function exitNormally(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.send({cmd: 'exit'});
  // A profile takes a moment to write; a server that does not exit is killed (without one).
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP_MS);
  await gone;
  clearTimeout(timer);
}

async function startAspNet(): Promise<ServerHandle> {
  // stdin is a pipe the app watches: when the harness is gone (even killed), it reads EOF and exits.
  const child = track(
    spawnProcess('dotnet', [ASPNET_DLL, '--urls', 'http://127.0.0.1:0'], {stdio: ['pipe', 'pipe', 'inherit'], env: {...process.env, BENCH_EXIT_ON_STDIN_EOF: '1'}}),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ASP.NET Core peer: no 'ready' line within ${STEP_MS} ms`)), STEP_MS);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`ASP.NET Core peer exited with ${code}: ${out}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: 'GET' | 'POST', path: string, timeoutMs = STEP_MS): Promise<T> => {
    const response = await fetch(base + path, {method, signal: AbortSignal.timeout(timeoutMs)}).catch((error: Error) => {
      throw new Error(`ASP.NET Core peer: ${method} ${path} failed: ${error.message}`);
    });
    if (!response.ok) throw new Error(`ASP.NET Core peer: ${method} ${path} → ${response.status}`);
    return (await response.json().catch(() => ({}))) as T;
  };
  // The app's payload is the same event, field for field, made in C# (see bench/aspnet/Program.cs).
  return {
    kind: 'aspnet',
    port,
    pid: child.pid!,
    burst: async (count, batch) => void (await call('POST', `/burst?count=${count}&batch=${batch}`)),
    rate: async (perSecond, durationMs) => {
      await call('POST', `/rate?perSecond=${perSecond}&durationMs=${durationMs}`, durationMs + STEP_MS);
      return undefined;
    },
    clients: async () => (await call<{clients: number}>('GET', '/clients')).clients,
    heapUsed: async () => (await call<{heapUsed: number}>('GET', '/memory')).heapUsed,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
