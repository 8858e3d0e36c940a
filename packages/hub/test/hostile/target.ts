import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** A server under attack in a child process, with what the hostile tests assert about it. */
export interface Victim {
  readonly url: string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Its resident set size now, in bytes (from /proc). */
  rss(): number;
  /** Whether it still answers `/healthz` with 200. */
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts `target-server.ts` with `options` (JSON) and waits for its URL. */
export async function startVictim(options: Record<string, unknown> = {}): Promise<Victim> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./target-server.ts', import.meta.url)), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
  });
  return {
    url,
    alive: () => !exited,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    healthy: async () => {
      try {
        return (await fetch(`${url}/healthz`, {signal: AbortSignal.timeout(5_000)})).status === 200;
      } catch {
        return false;
      }
    },
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
