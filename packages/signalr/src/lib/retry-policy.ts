/** How the bridge retries a lost connection. */
export interface ReconnectOptions {
  /** Give up after this many failed attempts in a row, and report `offline`; default never. */
  readonly maxAttempts?: number;
  /** The longest wait between two attempts; default 10 s. */
  readonly maxDelayMs?: number;
  /**
   * How far each wait after the first may stray from its nominal value, as a fraction of it: 0.5
   * (the default) draws it evenly from 0.5× to 1.5×, so pages that lost the same server retry
   * spread out instead of all at once, and half of them still try no later than the nominal
   * wait. 0 makes the waits exact.
   */
  readonly jitter?: number;
  /**
   * The shortest wait after the page's credentials were refused (the token source's 4xx, the hub's
   * 401/403), which retrying at once cannot fix; default 30 s.
   */
  readonly refusedDelayMs?: number;
}

/**
 * The wait before reconnect attempt `attempt` (1-based), or `null` to give up: at once for the
 * first, so a blip reconnects immediately, then doubling from 250 ms up to `maxDelayMs` (spread by
 * `jitter`), so an outage is not hammered. `random` is the source of the spread (in [0, 1)).
 */
export function retryDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number | null {
  if (attempt > (options.maxAttempts ?? Number.POSITIVE_INFINITY)) return null;
  if (attempt <= 1) return 0;
  const nominal = Math.min(options.maxDelayMs ?? 10_000, 250 * 2 ** Math.min(attempt - 2, 16));
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  return Math.round(nominal * (1 - jitter + 2 * jitter * random()));
}
