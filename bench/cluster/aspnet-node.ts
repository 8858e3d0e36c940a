/**
 * One ASP.NET Core SignalR node on its Redis backplane (Microsoft.AspNetCore.SignalR.StackExchangeRedis),
 * for the cluster bench: the app of bench/aspnet started with BENCH_REDIS, driven over HTTP the way
 * bench/broadcast drives it. bench/cluster/node.ts wraps it so the harness talks to every kind the same way.
 */
import {spawn as spawnProcess, type ChildProcess} from 'node:child_process';
import {track} from '../lib';

const DLL = 'bench/aspnet/bin/Release/net10.0/AspNetBench.dll';
const STEP_MS = 120_000;

/** A running ASP.NET node. */
export interface AspNetNode {
  readonly port: number;
  readonly child: ChildProcess;
  /** Starts `count` broadcasts, `batch` per turn (the app's own ~200-byte event); resolves once under way. */
  burst(count: number, batch: number): Promise<void>;
  /** Broadcasts stamped events at a fixed rate; resolves when the last was sent. */
  rate(perSecond: number, durationMs: number): Promise<void>;
  /** Connections the node holds. */
  clients(): Promise<number>;
}

/** Starts a node on `redisUrl` (redis://host:port) with its channels under `prefix`. */
export async function startAspNetNode(redisUrl: string, prefix: string): Promise<AspNetNode> {
  const {hostname, port: redisPort} = new URL(redisUrl);
  // stdin is a pipe the app watches: when this wrapper is gone (even killed), it reads EOF and exits.
  const child = track(
    spawnProcess('dotnet', [DLL, '--urls', 'http://127.0.0.1:0'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {...process.env, BENCH_EXIT_ON_STDIN_EOF: '1', BENCH_REDIS: `${hostname}:${redisPort},abortConnect=false`, BENCH_REDIS_PREFIX: prefix},
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ASP.NET Core node: no 'ready' line within ${STEP_MS} ms`)), STEP_MS);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`ASP.NET Core node exited with ${code}: ${out}`)));
  });
  const call = async <T>(method: 'GET' | 'POST', path: string, timeoutMs = STEP_MS): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {method, signal: AbortSignal.timeout(timeoutMs)});
    if (!response.ok) throw new Error(`ASP.NET Core node: ${method} ${path} → ${response.status}`);
    return (await response.json().catch(() => ({}))) as T;
  };
  return {
    port,
    child,
    burst: async (count, batch) => void (await call('POST', `/burst?count=${count}&batch=${batch}`)),
    rate: async (perSecond, durationMs) => void (await call('POST', `/rate?perSecond=${perSecond}&durationMs=${durationMs}`, durationMs + STEP_MS)),
    clients: async () => (await call<{clients: number}>('GET', '/clients')).clients,
  };
}
