import {fork, type ChildProcess} from 'node:child_process';
import {cpus} from 'node:os';

/** Starts a TypeScript script in a child process with an IPC channel. */
export function spawn(script: string, args: string[], execArgv: string[] = []): ChildProcess {
  return fork(script, args, {execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
}

/** Sends `message` (if any) and resolves with the child's next message whose `cmd` is `reply`. */
export function ask<T = Record<string, unknown>>(child: ChildProcess, message: object | undefined, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: {cmd: string}): void => {
      if (m.cmd !== reply) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${code} while waiting for ${reply}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== undefined) child.send(message);
  });
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
