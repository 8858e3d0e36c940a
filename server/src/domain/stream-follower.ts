import type {Envelope} from '@switchboard/contracts';
import {positionOf, type AppendedEvent, type TopicLog} from '@switchboard/hub';
import type {Logger} from 'pino';

/** One event of a followed topic. */
export interface TopicEvent {
  readonly topic: string;
  readonly event: Envelope;
}

/** Options of {@link StreamFollower}. */
export interface StreamFollowerOptions {
  readonly log: TopicLog;
  readonly topics: readonly string[];
  readonly logger: Logger;
  /** Applies one event, in order: at start, live, and when a gap is filled. */
  readonly apply: (event: TopicEvent) => void;
  /**
   * The topics were lost or cut (another epoch: Redis lost its data; or retention dropped events
   * never applied here): forget everything derived and apply these, all that is left, in order.
   */
  readonly rebuild: (events: readonly TopicEvent[]) => void;
  /** Events per read; default 1,000. */
  readonly pageSize?: number;
  /** How often the heads are compared with what was applied, in case a trailing announcement was lost; default 2 s. */
  readonly checkEveryMs?: number;
}

interface At {
  readonly epoch: string;
  readonly seq: number;
}

interface Waiter {
  readonly topic: string;
  readonly epoch: string;
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Follows the shop's topics on a shared log for the read models: applies every event once, in
 * order, and never skips one. It remembers the last offset applied per topic; an announcement that
 * does not follow it (a gap: the feed was disconnected, a Redis restart) or a reconnect of the feed
 * makes it read on from that offset in pages, holding live events meanwhile. A read that says
 * `truncated` (another epoch, or events trimmed before they were applied) rebuilds from what the
 * topics still hold, like a node that starts now.
 */
export class StreamFollower {
  readonly #o: StreamFollowerOptions;
  readonly #topics: ReadonlySet<string>;
  readonly #page: number;
  readonly #at = new Map<string, At | null>();
  readonly #held: AppendedEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  #live = false;
  #started = false;
  /** A catch-up asked for while starting, run once started. */
  #syncAfterStart = false;
  #syncing: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #stop: (() => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: StreamFollowerOptions) {
    this.#o = options;
    this.#topics = new Set(options.topics);
    this.#page = options.pageSize ?? 1000;
  }

  /** Applies what the topics hold, then follows them live. */
  async start(): Promise<void> {
    this.#stop = this.#o.log.watch({topics: [...this.#topics], appended: (e) => this.#heard(e), resumed: () => this.#sync()});
    const history = await this.#readAll();
    for (const e of history.events) this.#o.apply(e);
    for (const [topic, at] of history.at) this.#at.set(topic, at);
    this.#notify();
    this.#started = true;
    this.#drain();
    if (this.#syncAfterStart) this.#sync();
    this.#timer = setInterval(() => void this.#check(), this.#o.checkEveryMs ?? 2000);
    this.#timer.unref();
  }

  /** Stops following; whoever waits in {@link reached} is refused (the node handles nothing more). */
  close(): void {
    this.#closed = true;
    this.#stop?.();
    clearInterval(this.#timer);
    for (const w of this.#waiters) w.reject(new Error('the read models stopped following the topics'));
    this.#waiters.clear();
  }

  /** The offset of the last event applied per topic (`null`: none), what the read models reflect. */
  offsets(topics: readonly string[]): Record<string, string | null> {
    return Object.fromEntries(topics.map((t) => [t, format(this.#at.get(t))]));
  }

  /**
   * Resolves once the event at `epoch:seq` of `topic` (and so everything before it) is applied:
   * a service handles an event only with read models that include it. Rejects after `timeoutMs`.
   */
  reached(topic: string, epoch: string, seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the read models stopped following the topics'));
    if (this.#has(topic, epoch, seq)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const nudge = setTimeout(() => this.#sync(), 250);
      const timeout = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`the read models did not reach ${topic} ${epoch}:${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = () => (clearTimeout(nudge), clearTimeout(timeout));
      const waiter: Waiter = {topic, epoch, seq, resolve: () => (settle(), resolve()), reject: (error) => (settle(), reject(error))};
      this.#waiters.add(waiter);
    });
  }

  #has(topic: string, epoch: string, seq: number): boolean {
    const at = this.#at.get(topic);
    return at != null && at.epoch === epoch && at.seq >= seq;
  }

  #heard(e: AppendedEvent): void {
    if (this.#closed || !this.#topics.has(e.topic)) return;
    if (!this.#live) {
      this.#held.push(e);
      return;
    }
    const pos = positionOf(e.offset);
    if (pos === undefined) return;
    const at = this.#at.get(e.topic) ?? null;
    if (at !== null && at.epoch === pos.epoch && pos.seq <= at.seq) return; // applied already
    if (at === null ? pos.seq === 1 : at.epoch === pos.epoch && pos.seq === at.seq + 1) {
      this.#o.apply({topic: e.topic, event: e.event});
      this.#at.set(e.topic, pos);
      this.#notify();
      return;
    }
    // A gap (missed announcements) or another epoch: read on from the last applied offset. The
    // read covers this event (it is stored already); the announcement itself is only a hint.
    this.#sync();
  }

  /** Resolves the waiters whose event is applied now. */
  #notify(): void {
    for (const w of this.#waiters) {
      if (this.#has(w.topic, w.epoch, w.seq)) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Reads on from the last applied offsets (once at a time; asked again meanwhile, once more after). */
  #sync(): void {
    if (this.#closed) return;
    if (!this.#started) {
      this.#syncAfterStart = true;
      return;
    }
    if (this.#syncing !== undefined) {
      this.#again = true;
      return;
    }
    this.#live = false;
    this.#syncing = (async () => {
      do {
        this.#again = false;
        for (;;) {
          try {
            await this.#catchUp();
            break;
          } catch (error) {
            if (this.#closed) return;
            this.#o.logger.warn({err: error}, 'read models could not catch up with the topics; retrying');
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#syncing = undefined;
      this.#drain();
    });
  }

  /** Goes live, applying what was held meanwhile (what was read already is skipped by offset). */
  #drain(): void {
    if (this.#closed) return;
    this.#live = true;
    const held = this.#held.splice(0);
    for (const [i, e] of held.entries()) {
      this.#heard(e);
      // A new gap: the rest waits for that catch-up.
      if (!this.#live) {
        this.#held.unshift(...held.slice(i + 1));
        return;
      }
    }
  }

  async #catchUp(): Promise<void> {
    const missed: Array<TopicEvent & {at: At}> = [];
    const reached = new Map<string, At | null>();
    for (const topic of this.#topics) {
      const read = await this.#read(topic, this.#at.get(topic) ?? null);
      if (read === 'truncated') {
        const all = await this.#readAll();
        this.#o.logger.warn({topic}, 'a topic was lost or cut before the read models applied it: rebuilding them from what is left');
        this.#o.rebuild(all.events);
        for (const [t, at] of all.at) this.#at.set(t, at);
        this.#notify();
        return;
      }
      missed.push(...read.events);
      reached.set(topic, read.at);
    }
    missed.sort(byTime);
    for (const [i, e] of missed.entries()) {
      this.#o.apply(e);
      // The offsets move with what is applied, so they always describe the read models exactly.
      this.#at.set(e.topic, e.at);
      // Long gaps are applied in slices, so the event loop stays responsive.
      if (i % this.#page === this.#page - 1) {
        this.#notify();
        await new Promise((r) => setImmediate(r));
      }
    }
    for (const [topic, at] of reached) this.#at.set(topic, at);
    this.#notify();
  }

  /** Everything the topics hold, in the order it happened, and the offsets it reaches. */
  async #readAll(): Promise<{events: TopicEvent[]; at: Map<string, At | null>}> {
    const events: TopicEvent[] = [];
    const at = new Map<string, At | null>();
    for (const topic of this.#topics) {
      const read = await this.#read(topic, null);
      if (read === 'truncated') throw new Error(`reading ${topic} from its start said truncated`);
      events.push(...read.events);
      at.set(topic, read.at);
    }
    // Topics interleave: apply them in the order the events happened.
    events.sort(byTime);
    return {events, at};
  }

  /** A topic's events after `from`, in pages, and where they end; 'truncated' when some after `from` are gone. */
  async #read(topic: string, from: At | null): Promise<{events: Array<TopicEvent & {at: At}>; at: At | null} | 'truncated'> {
    // From the start, an empty result means "up to the head": taken first, so nothing appended meanwhile is skipped.
    const head = from === null ? await this.#o.log.head(topic) : undefined;
    const events: Array<TopicEvent & {at: At}> = [];
    let after = format(from);
    for (;;) {
      const page = await this.#o.log.read(topic, after, this.#page);
      if (page.truncated && from !== null) return 'truncated';
      for (const {offset, event} of page.entries) events.push({topic, event, at: positionOf(offset)!});
      after = page.next;
      if (page.entries.length < this.#page) break;
    }
    const end = after ?? head ?? null;
    return {events, at: end === null ? null : (positionOf(end) ?? null)};
  }

  /** Compares each head with what was applied: a trailing event whose announcement was lost shows here. */
  async #check(): Promise<void> {
    if (!this.#live || this.#closed) return;
    try {
      for (const topic of this.#topics) {
        const head = await this.#o.log.head(topic);
        if (head !== format(this.#at.get(topic))) return this.#sync();
      }
    } catch {
      // Unreachable: the feed's reconnect starts a catch-up.
    }
  }
}

function format(at: At | null | undefined): string | null {
  return at == null ? null : `${at.epoch}:${at.seq}`;
}

function byTime(a: TopicEvent, b: TopicEvent): number {
  return a.event.time < b.event.time ? -1 : a.event.time > b.event.time ? 1 : 0;
}
