/** What the benchmark's server processes share: their CPU time, and sending at a fixed rate for latency runs. */
import {monitorEventLoopDelay, PerformanceObserver} from 'node:perf_hooks';

/**
 * What held the server's event loop during a latency window: its garbage collections (count, longest
 * and total pause) and the event loop's delay (p99 and max, sampled every 1 ms). A one-way p99 that
 * a server's GC or a long synchronous send explains shows up here; one that these do not explain
 * happened outside the server (the network stack, the clients' process).
 */
export interface WindowStats {
  readonly gcCount: number;
  readonly gcMaxMs: number;
  /** The longest pause's kind: minor (scavenge), major (mark-compact), incremental or weakcb. */
  readonly gcLongestKind: string;
  readonly gcTotalMs: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
}

/** perf_hooks' NODE_PERFORMANCE_GC_* flags (1, 2, 4, 8) by name. */
const GC_KINDS: Record<number, string> = {1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb'};

/** Starts watching GC and event-loop delay; the returned function stops and reports. */
export function watchWindow(): () => WindowStats {
  const pauses: number[] = [];
  let longestKind = '';
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration > Math.max(0, ...pauses)) longestKind = GC_KINDS[((entry as {detail?: unknown}).detail as {kind?: number} | undefined)?.kind ?? 0] ?? 'other';
      pauses.push(entry.duration);
    }
  });
  observer.observe({entryTypes: ['gc']});
  const loop = monitorEventLoopDelay({resolution: 1});
  loop.enable();
  return () => {
    observer.disconnect();
    loop.disable();
    return {
      gcCount: pauses.length,
      gcMaxMs: pauses.length === 0 ? 0 : Math.max(...pauses),
      gcLongestKind: longestKind,
      gcTotalMs: pauses.reduce((a, b) => a + b, 0),
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
    };
  };
}

/** This process's CPU time (user + system), in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Sends `payload` `perSecond` times a second for `durationMs`, each stamped with `seq` and
 * `sentAt` (epoch ms) for the clients' one-way latency, then tells the harness `rate-sent` with
 * the window's {@link WindowStats}.
 */
export function sendAtRate(send: (message: Record<string, unknown>) => unknown, payload: Record<string, unknown> | undefined, perSecond: number, durationMs: number): void {
  const interval = 1000 / perSecond;
  const end = performance.now() + durationMs;
  let next = performance.now();
  let seq = 0;
  const stats = watchWindow();
  const tick = (): void => {
    const now = performance.now();
    while (next <= now && now < end) {
      void send({...payload, seq: seq++, sentAt: performance.timeOrigin + performance.now()});
      next += interval;
    }
    if (now < end) setTimeout(tick, Math.max(0, next - performance.now()));
    else process.send!({cmd: 'rate-sent', count: seq, ...stats()});
  };
  tick();
}
