import type {Appender} from '../auth/appender.js';

/** Default of {@link TopicBudget}'s topics per client: 100. */
export const DEFAULT_TOPICS_PER_CLIENT = 100;

/** The claim a token may carry to give its holder a topic budget of its own, e.g. `{"topicQuota": 5000}`. */
export const TOPIC_QUOTA_CLAIM = 'topicQuota';

/**
 * How many topics each client may have created and still held by the log: a principal by its user
 * id (its token's `topicQuota` claim overrides the default), an anonymous client by its remote
 * address. Server code is never budgeted. Topics the log no longer holds (forgotten as idle, or
 * older than `windowMs` where the log cannot tell) stop counting.
 */
export class TopicBudget {
  /** Per client key: the topics it created, with when. */
  readonly #created = new Map<string, Map<string, number>>();
  #sinceSweep = 0;

  /**
   * `held` tells whether the log still holds a topic (undefined where it cannot tell: then topics
   * older than `windowMs`, the retention age, stop counting).
   */
  constructor(
    readonly perClient: number,
    readonly windowMs: number,
    readonly held: ((topic: string) => boolean) | undefined,
    readonly now: () => number = Date.now,
  ) {}

  /** The key a client is budgeted under; undefined for the server. */
  keyOf(appender: Appender): string | undefined {
    if (appender.kind === 'server') return undefined;
    if (appender.principal !== undefined) return `user:${appender.principal.userId}`;
    return `addr:${appender.remoteAddress ?? 'anonymous'}`;
  }

  /** The client's quota: its token's `topicQuota` claim when a whole number ≥ 0, else the default. */
  quotaOf(appender: Appender): number {
    const claim = appender.kind === 'client' ? appender.principal?.claims?.[TOPIC_QUOTA_CLAIM] : undefined;
    return typeof claim === 'number' && Number.isInteger(claim) && claim >= 0 ? claim : this.perClient;
  }

  /** Whether `appender` may create one more topic. */
  allows(appender: Appender): boolean {
    const key = this.keyOf(appender);
    if (key === undefined) return true;
    const quota = this.quotaOf(appender);
    const mine = this.#created.get(key);
    if (mine === undefined || mine.size < quota) return quota > 0;
    // At the quota: forget the topics that are gone, then decide.
    this.#prune(key, mine);
    return mine.size < quota;
  }

  /** Records that `appender` created `topic`; now and then forgets what every client created and is gone. */
  created(appender: Appender, topic: string): void {
    const key = this.keyOf(appender);
    if (key === undefined) return;
    let mine = this.#created.get(key);
    if (mine === undefined) this.#created.set(key, (mine = new Map()));
    mine.set(topic, this.now());
    // A sweep per 1,024 creations keeps clients that never reach their quota from piling up.
    if (++this.#sinceSweep >= 1024) {
      this.#sinceSweep = 0;
      for (const [k, m] of this.#created) this.#prune(k, m);
    }
  }

  #prune(key: string, mine: Map<string, number>): void {
    const oldest = this.now() - this.windowMs;
    for (const [topic, at] of mine) if (at < oldest || (this.held !== undefined && !this.held(topic))) mine.delete(topic);
    if (mine.size === 0) this.#created.delete(key);
  }

  /** Topics counted against `appender` now (for tests and diagnostics). */
  countOf(appender: Appender): number {
    const key = this.keyOf(appender);
    return key === undefined ? 0 : (this.#created.get(key)?.size ?? 0);
  }
}
