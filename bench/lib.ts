import {fork, type ChildProcess} from 'node:child_process';
import {cpus} from 'node:os';

/**
 * Every child a benchmark started and that still runs. They share the benchmark's stdout, so one
 * left behind would hold a pipe (`npm run bench | tee`) open for ever: when the benchmark's process
 * exits, for whatever reason, they are killed with it.
 */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Counts `child` among the benchmark's children (killed when the benchmark exits). */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Starts a TypeScript script in a child process with an IPC channel (killed when the benchmark exits). */
export function spawn(script: string, args: string[], execArgv: string[] = []): ChildProcess {
  return track(fork(script, args, {execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc']}));
}

/**
 * Sends `message` (if any) and resolves with the child's next message whose `cmd` is `reply`.
 * Rejects if the child exits first, or with a clear message after `timeoutMs` (if given).
 */
export function ask<T = Record<string, unknown>>(child: ChildProcess, message: object | undefined, reply: string, timeoutMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      clearTimeout(timer);
    };
    const onMessage = (m: {cmd: string}): void => {
      if (m.cmd !== reply) return;
      done();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(new Error(`${name(child)} exited (${signal ?? `code ${code}`}) while the benchmark waited for '${reply}'`));
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            done();
            reject(new Error(`${name(child)} sent no '${reply}' within ${timeoutMs} ms`));
          }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== undefined) child.send(message);
  });
}

/** A child's script and arguments, for messages. */
function name(child: ChildProcess): string {
  return child.spawnargs.filter((a) => !a.startsWith('-') && a !== 'tsx' && !a.endsWith('/node')).join(' ');
}

/** Stops a child and waits for it to be gone. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One line naming the machine the numbers came from. */
export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}`;
}

/** Formats a table in Markdown. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
