/** A token bucket's size and refill: `burst` sends at once, then `perSecond` on average. */
export interface RateLimitOptions {
  /** Sends allowed at once (the bucket's size). */
  readonly burst: number;
  /** Sends allowed per second on average (the refill rate). */
  readonly perSecond: number;
  /** Clients remembered at once; past it the least recently seen is forgotten (it gets a full bucket). Default 100,000. */
  readonly maxClients?: number;
}

/** What {@link RateLimiter.take} answers. */
export type RateDecision = {readonly allowed: true} | {readonly allowed: false; readonly retryAfterMs: number};

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per client key (a user id, or a remote address for anonymous clients): each send
 * takes a token; tokens come back at `perSecond` up to `burst`. A refused send learns how long to
 * wait. Memory is bounded: at most `maxClients` buckets, the least recently seen forgotten first.
 *
 * ```ts
 * const limiter = new RateLimiter({burst: 20, perSecond: 5});
 * const decision = limiter.take('addr:10.0.0.7');
 * if (!decision.allowed) res.setHeader('retry-after', Math.ceil(decision.retryAfterMs / 1000));
 * ```
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxClients: number;

  constructor(
    options: RateLimitOptions,
    readonly now: () => number = Date.now,
  ) {
    if (!(options.burst >= 1) || !(options.perSecond > 0)) throw new RangeError('a rate limit needs burst >= 1 and perSecond > 0');
    this.#burst = options.burst;
    this.#perMs = options.perSecond / 1000;
    this.#maxClients = options.maxClients ?? 100_000;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is back. */
  take(key: string): RateDecision {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = {tokens: this.#burst, at: now};
      if (this.#buckets.size >= this.#maxClients) this.#buckets.delete(this.#buckets.keys().next().value!);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
      // Re-inserted, so the Map's order is least recently seen first.
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return {allowed: true};
    }
    return {allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.#perMs)};
  }

  /** Clients remembered now. */
  get size(): number {
    return this.#buckets.size;
  }
}

/** Thrown (or reported) when a client sent more than its rate limit allows. */
export class RateLimitError extends Error {
  override readonly name = 'RateLimitError';
  constructor(
    readonly what: string,
    readonly retryAfterMs: number,
  ) {
    super(`Rate limit: too many ${what} from this client; retry in ${(retryAfterMs / 1000).toFixed(1)} s.`);
  }
}
