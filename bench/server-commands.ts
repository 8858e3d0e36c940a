/** What the benchmark's server processes share: their CPU time, and sending at a fixed rate for latency runs. */

/** This process's CPU time (user + system), in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Sends `payload` `perSecond` times a second for `durationMs`, each stamped with `seq` and
 * `sentAt` (epoch ms) for the clients' one-way latency, then tells the harness `rate-sent`.
 */
export function sendAtRate(send: (message: Record<string, unknown>) => unknown, payload: Record<string, unknown> | undefined, perSecond: number, durationMs: number): void {
  const interval = 1000 / perSecond;
  const end = performance.now() + durationMs;
  let next = performance.now();
  let seq = 0;
  const tick = (): void => {
    const now = performance.now();
    while (next <= now && now < end) {
      void send({...payload, seq: seq++, sentAt: performance.timeOrigin + performance.now()});
      next += interval;
    }
    if (now < end) setTimeout(tick, Math.max(0, next - performance.now()));
    else process.send!({cmd: 'rate-sent', count: seq});
  };
  tick();
}
