/** How the bridge retries a lost connection. */
export interface ReconnectOptions {
  /** Give up after this many failed attempts in a row, and report `offline`; default never. */
  readonly maxAttempts?: number;
  /** The longest wait between two attempts; default 10 s. */
  readonly maxDelayMs?: number;
  /**
   * The shortest wait after the page's credentials were refused (the token source's 4xx, the hub's
   * 401/403), which retrying at once cannot fix; default 30 s.
   */
  readonly refusedDelayMs?: number;
}

/**
 * The wait before reconnect attempt `attempt` (1-based), or `null` to give up: at once for the
 * first, so a blip reconnects immediately, then doubling from 250 ms up to `maxDelayMs`, so an
 * outage is not hammered.
 */
export function retryDelay(attempt: number, options: ReconnectOptions = {}): number | null {
  if (attempt > (options.maxAttempts ?? Number.POSITIVE_INFINITY)) return null;
  if (attempt <= 1) return 0;
  return Math.min(options.maxDelayMs ?? 10_000, 250 * 2 ** Math.min(attempt - 2, 16));
}
