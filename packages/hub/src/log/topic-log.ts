import type {Envelope} from '@switchboard/contracts';
import {formatOffset, newEpoch, parseOffset} from './offsets.js';

/** One retained event and its position in its topic. */
export interface LogEntry {
  /** Opaque to clients; increasing within the topic. */
  readonly offset: string;
  readonly event: Envelope;
  /**
   * The event as the log stores it (JSON text), when the log has it: the hub then forwards it to
   * JSON-protocol clients without parsing and re-serializing it. Not enumerable, so it never
   * shows in an entry written out as JSON.
   */
  readonly json?: string;
}

/** What appending returned: the event's offset, and whether it was already in the log. */
export interface AppendResult {
  readonly offset: string;
  /** True when an event with the same id was already retained: nothing was appended. */
  readonly duplicate: boolean;
}

/** A page of retained events after an offset. */
export interface ReadResult {
  readonly entries: readonly LogEntry[];
  /**
   * True when events after the requested offset may be missing: dropped by retention, or the offset
   * is of another epoch of the log (a restart) or past the head. Reading then starts at the oldest
   * retained event.
   */
  readonly truncated: boolean;
  /** The offset to pass as `after` to read on; the last entry's, or the requested one when empty. */
  readonly next: string | null;
}

/**
 * Who appends, for the topic cap: a topic the server's own code creates never counts against
 * `maxTopics` and is never refused, so clients filling the table cannot starve the server's appends.
 */
export type AppendBy = 'server' | 'client';

/**
 * A per-topic retained log answering at once (in process). The hub uses logs through the
 * asynchronous `TopicLog` seam; `asyncTopicLog` adapts one of these to it.
 */
export interface SyncTopicLog {
  /** Appends `event` unless an event with its id is retained already (idempotent publish); `by` defaults to `'client'`. */
  append(topic: string, event: Envelope, by?: AppendBy): AppendResult;
  /** Up to `limit` events after `after` (`null`: from the oldest retained), in order. */
  read(topic: string, after: string | null, limit: number): ReadResult;
  /** The offset of the newest event, or `null` for an empty topic. */
  head(topic: string): string | null;
  /**
   * The topic's position now: the head's offset, or, for an empty topic, an offset before its next
   * event. A reader that has seen nothing of the topic yet resumes from it and misses nothing (a
   * `null` offset would mean "from whenever I reconnect"). Optional: without it, `subscribe`
   * answers the head, `null` for an empty topic.
   */
  position?(topic: string): string;
  /** Whether `offset` could have been produced by this log (so bad client input is refused early). */
  isOffset(offset: string): boolean;
  /** Events retained now per topic, for metrics (optional). */
  sizes?(): Map<string, number>;
  /** Whether `topic` has a log now (metrics give only such topics their own series; optional). */
  has?(topic: string): boolean;
  /**
   * Tells a log that forgets idle topics which topics are in use (have subscribers) and so are
   * never forgotten; the event service passes its hub's group check (optional).
   */
  setTopicInUse?(inUse: (topic: string) => boolean): void;
}

/**
 * Thrown by {@link TopicLog.append} when the event would create a topic past the log's topic cap.
 * Nothing was appended; the publisher is told to back off (HTTP 429, an invocation error).
 */
export class TopicLimitError extends Error {
  override readonly name = 'TopicLimitError';
  constructor(readonly limit: number) {
    super(`Topic limit reached: this hub keeps at most ${limit} topics (option maxTopics).`);
  }
}

interface Entry {
  readonly seq: number;
  readonly event: Envelope;
  readonly at: number;
  /** Estimated bytes (the event's JSON length), measured once at append. */
  readonly size: number;
}

interface Ring {
  /** Sequence number of the oldest retained entry, entries[head]. */
  first: number;
  /** Sequence number the next append gets. */
  next: number;
  /** Retained entries start at `head`; the dropped prefix is cut off in bulk, not one shift per append. */
  entries: Entry[];
  head: number;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  ids: Map<string, number>;
  /** Ids deleted from `ids` since it was last rebuilt (see #dropOldest). */
  idsDropped: number;
  /** When the topic was last active: an append, an event leaving it, or a sweep that saw events or subscribers. */
  active: number;
  /** The first sequence number this ring handed out (above every number of an earlier, forgotten ring of the topic). */
  readonly origin: number;
  /** A client created it: it counts against `maxTopics`. */
  readonly counted: boolean;
}

/** How much of a topic is kept: by count, by age, or both. */
export interface Retention {
  /** Events kept; the oldest go first. */
  readonly maxEvents?: number;
  /** Events older than this are dropped. */
  readonly maxAgeMs?: number;
}

/** Retention and bounds of the in-memory log. */
export interface MemoryTopicLogOptions extends Retention {
  /** Per-topic retention, overriding the defaults (10,000 events, 1 hour). */
  readonly topics?: Readonly<Record<string, Retention>>;
  /**
   * Bytes retained across all topics (each event counted as its JSON length); past it the oldest
   * events of any topic go first, and readers from before them get `truncated`. Default 64 MB.
   */
  readonly maxRetainedBytes?: number;
  /**
   * Topics clients may have created; a client's append that would create one more throws
   * {@link TopicLimitError}. Topics the server's own appends create do not count. Default 10,000.
   */
  readonly maxTopics?: number;
  /**
   * A topic with no retained events (none appended, or all dropped by age or bytes) and no
   * subscribers for this long is forgotten: it stops counting against `maxTopics`, and a later
   * append starts it again with numbers past every earlier one (readers from before may get `truncated`, never skip an event). Default 10 minutes; `Infinity`
   * keeps every topic until restart.
   */
  readonly idleTopicMs?: number;
  /** The epoch in every offset; random by default, so offsets of an earlier process read as foreign. */
  readonly epoch?: string;
  readonly now?: () => number;
}

/** Default of {@link MemoryTopicLogOptions.maxRetainedBytes}: 64 MB. */
export const DEFAULT_MAX_RETAINED_BYTES = 64 * 1024 * 1024;
/**
 * Default age limit of retained events: 1 hour. A client that comes back within the hour resumes
 * where it left off; after that it is told `truncated`. Finite so a topic's events age out and the
 * topic itself idles out of the table (Ably keeps messages 2 minutes by default, Kafka 7 days).
 */
export const DEFAULT_MAX_AGE_MS = 60 * 60 * 1000;
/** Default of {@link MemoryTopicLogOptions.maxTopics}. */
export const DEFAULT_MAX_TOPICS = 10_000;
/** Default of {@link MemoryTopicLogOptions.idleTopicMs}: 10 minutes. */
export const DEFAULT_IDLE_TOPIC_MS = 10 * 60 * 1000;
/** The longest time between two sweeps for idle topics; also the least between two sweeps a refused append starts. */
const SWEEP_EVERY_MS = 60_000;
const CAP_SWEEP_EVERY_MS = 1000;

/**
 * The default {@link SyncTopicLog}: one bounded array per topic, and one bound on bytes across them
 * all. Offsets are `<epoch>:<seq>` (see `offsets.ts`); clients must treat them as opaque.
 */
export class MemoryTopicLog implements SyncTopicLog {
  /** This log's epoch: a new one per instance, so a restarted server never honours old offsets blindly. */
  readonly epoch: string;
  readonly #topics = new Map<string, Ring>();
  readonly #defaults: Retention;
  readonly #perTopic: Readonly<Record<string, Retention>>;
  readonly #maxBytes: number;
  readonly #maxTopics: number;
  readonly #now: () => number;
  /** Every retained entry in append order across topics (plus some already dropped: see #compact). */
  #order: Array<{ring: Ring; seq: number}> = [];
  #orderHead = 0;
  #retained = 0;
  #bytes = 0;
  readonly #idleTopicMs: number;
  #inUse: (topic: string) => boolean = () => false;
  /** The first sequence number of a new ring: past every number a forgotten ring handed out. */
  #floor = 1;
  #lastSweep: number;
  #lastCapSweep = Number.NEGATIVE_INFINITY;
  #forgotten = 0;
  /** Topics held that clients created (those count against the cap). */
  #clientTopics = 0;

  constructor(options: MemoryTopicLogOptions = {}) {
    this.#defaults = {maxEvents: options.maxEvents ?? 10_000, maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS};
    this.#perTopic = options.topics ?? {};
    this.#maxBytes = options.maxRetainedBytes ?? DEFAULT_MAX_RETAINED_BYTES;
    this.#maxTopics = options.maxTopics ?? DEFAULT_MAX_TOPICS;
    this.#now = options.now ?? Date.now;
    this.epoch = options.epoch ?? newEpoch();
    formatOffset(this.epoch, 0);
    this.#idleTopicMs = options.idleTopicMs ?? DEFAULT_IDLE_TOPIC_MS;
    if (!(this.#idleTopicMs > 0)) throw new RangeError(`idleTopicMs must be above 0 (Infinity keeps every topic); got ${options.idleTopicMs}`);
    this.#lastSweep = this.#now();
  }

  /** Topics forgotten as idle since the log started. */
  get forgottenTopics(): number {
    return this.#forgotten;
  }

  setTopicInUse(inUse: (topic: string) => boolean): void {
    this.#inUse = inUse;
  }

  /**
   * Forgets every topic idle for `idleTopicMs`: no retained events and no subscribers. Runs by
   * itself, at most once a minute on an append, and before an append is refused for the topic cap;
   * returns the topics it forgot.
   */
  forgetIdle(): string[] {
    const now = this.#now();
    this.#lastSweep = now;
    const forgotten: string[] = [];
    if (this.#idleTopicMs === Number.POSITIVE_INFINITY) return forgotten;
    for (const [topic, ring] of this.#topics) {
      this.#expire(ring);
      if (ring.head < ring.entries.length || this.#inUse(topic)) ring.active = now;
      else if (now - ring.active >= this.#idleTopicMs) {
        this.#topics.delete(topic);
        if (ring.counted) this.#clientTopics--;
        this.#floor = Math.max(this.#floor, ring.next);
        forgotten.push(topic);
      }
    }
    this.#forgotten += forgotten.length;
    return forgotten;
  }

  /** Estimated bytes retained across all topics (the sum of the events' JSON lengths). */
  get retainedBytes(): number {
    return this.#bytes;
  }

  /** Topics the log holds. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Events retained now per topic, for metrics. */
  sizes(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const [topic, ring] of this.#topics) {
      this.#expire(ring);
      sizes.set(topic, ring.entries.length - ring.head);
    }
    return sizes;
  }

  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  append(topic: string, event: Envelope, by: AppendBy = 'client'): AppendResult {
    if (this.#now() - this.#lastSweep >= Math.min(SWEEP_EVERY_MS, this.#idleTopicMs)) this.forgetIdle();
    const ring = this.#ring(topic, by);
    this.#expire(ring);
    const existing = ring.ids.get(event.id);
    if (existing !== undefined) return {offset: formatOffset(this.epoch, existing), duplicate: true};
    const seq = ring.next++;
    const size = JSON.stringify(event).length;
    const at = this.#now();
    ring.active = at;
    ring.entries.push({seq, event, at, size});
    ring.ids.set(event.id, seq);
    this.#order.push({ring, seq});
    this.#retained++;
    this.#bytes += size;
    while (ring.entries.length - ring.head > ring.maxEvents) this.#dropOldest(ring);
    this.#enforceBytes();
    return {offset: formatOffset(this.epoch, seq), duplicate: false};
  }

  read(topic: string, after: string | null, limit: number): ReadResult {
    const ring = this.#topics.get(topic);
    if (after === null) {
      if (ring === undefined) return {entries: [], truncated: false, next: null};
      this.#expire(ring);
      return this.#page(ring, 0, ring.first > ring.origin, null, limit);
    }
    const parsed = parseOffset(after);
    const headSeq = ring === undefined ? 0 : ring.next - 1;
    // Another epoch's offset (a restart), or one this log never handed out: numbers below it may
    // be new events, so start from the oldest retained and say so. A topic with no ring honours
    // the position it hands out (#floor - 1, see position()).
    const honest = parsed !== undefined && parsed.epoch === this.epoch && (parsed.seq <= headSeq || (ring === undefined && parsed.seq === this.#floor - 1));
    if (ring === undefined) return honest ? {entries: [], truncated: false, next: after} : {entries: [], truncated: true, next: null};
    this.#expire(ring);
    if (!honest) return this.#page(ring, 0, true, null, limit);
    // Events first..next-1 are retained; anything in (from, first) is lost.
    return this.#page(ring, parsed.seq, parsed.seq + 1 < ring.first, after, limit);
  }

  position(topic: string): string {
    const ring = this.#topics.get(topic);
    // A topic with no ring yet numbers its first event #floor.
    return formatOffset(this.epoch, ring === undefined ? this.#floor - 1 : ring.next - 1);
  }

  head(topic: string): string | null {
    const ring = this.#topics.get(topic);
    return ring === undefined || ring.next === ring.origin ? null : formatOffset(this.epoch, ring.next - 1);
  }

  isOffset(offset: string): boolean {
    return parseOffset(offset) !== undefined;
  }

  /** Up to `limit` entries of `ring` after sequence number `from`. */
  #page(ring: Ring, from: number, truncated: boolean, after: string | null, limit: number): ReadResult {
    const start = ring.head + Math.max(0, from + 1 - ring.first);
    const entries = ring.entries
      .slice(start, start + Math.max(0, limit))
      .map((e) => ({offset: formatOffset(this.epoch, e.seq), event: e.event}));
    return {entries, truncated, next: entries.length > 0 ? entries[entries.length - 1]!.offset : after};
  }

  #ring(topic: string, by: AppendBy): Ring {
    let ring = this.#topics.get(topic);
    if (ring === undefined) {
      const counted = by === 'client';
      if (counted && this.#clientTopics >= this.#maxTopics && this.#now() - this.#lastCapSweep >= CAP_SWEEP_EVERY_MS) {
        // At the cap: forget idle topics first (at most once a second, so refused appends cannot make every append scan).
        this.#lastCapSweep = this.#now();
        this.forgetIdle();
      }
      if (counted && this.#clientTopics >= this.#maxTopics) throw new TopicLimitError(this.#maxTopics);
      if (counted) this.#clientTopics++;
      const own = this.#perTopic[topic] ?? {};
      ring = {
        first: this.#floor,
        next: this.#floor,
        origin: this.#floor,
        active: this.#now(),
        entries: [],
        head: 0,
        ids: new Map(),
        idsDropped: 0,
        maxEvents: own.maxEvents ?? this.#defaults.maxEvents!,
        maxAgeMs: own.maxAgeMs ?? this.#defaults.maxAgeMs!,
        counted,
      };
      this.#topics.set(topic, ring);
    }
    return ring;
  }

  /** Drops the oldest events of any topic until the retained bytes fit the bound. */
  #enforceBytes(): void {
    while (this.#bytes > this.#maxBytes && this.#orderHead < this.#order.length) {
      const {ring, seq} = this.#order[this.#orderHead++]!;
      // Entries dropped earlier (by count or age) are skipped; a live one is its topic's oldest.
      if (ring.head < ring.entries.length && ring.entries[ring.head]!.seq === seq) this.#dropOldest(ring);
    }
    this.#compact();
  }

  /**
   * Keeps the append-order list from growing with entries that count or age already dropped:
   * rebuilt once stale ones pass an eighth of the live ones (at least 1,024), so the cost per append
   * stays constant (about nine entries copied) and the list never holds more than 12.5% dead weight.
   * (Rebuilt only when stale ones outnumbered live ones, a full log's heap rose and fell by ~5 MB
   * every 8 minutes at 200 events/s, and V8 kept the peak committed: the soak's RSS crept upward.)
   */
  #compact(): void {
    const listed = this.#order.length - this.#orderHead;
    if (listed - this.#retained <= Math.max(1024, this.#retained >> 3)) return;
    this.#order = this.#order.slice(this.#orderHead).filter(({ring, seq}) => seq >= ring.first);
    this.#orderHead = 0;
  }

  #expire(ring: Ring): void {
    if (ring.maxAgeMs === Number.POSITIVE_INFINITY) return;
    const oldest = this.#now() - ring.maxAgeMs;
    while (ring.head < ring.entries.length && ring.entries[ring.head]!.at < oldest) this.#dropOldest(ring, ring.entries[ring.head]!.at + ring.maxAgeMs);
  }

  /** Drops the ring's oldest event, which left the log at `at` (its expiry, for age; now otherwise). */
  #dropOldest(ring: Ring, at = this.#now()): void {
    const dropped = ring.entries[ring.head]!;
    // A topic is idle from when its last event left, not from when that was noticed.
    ring.active = Math.max(ring.active, at);
    // Release the slot now: the dead prefix is cut off in bulk later, and must not hold events.
    (ring.entries as Array<Entry | undefined>)[ring.head++] = undefined;
    ring.ids.delete(dropped.event.id);
    ring.first = dropped.seq + 1;
    this.#retained--;
    this.#bytes -= dropped.size;
    if (ring.head > 1024 && ring.head * 2 > ring.entries.length) {
      ring.entries = ring.entries.slice(ring.head);
      ring.head = 0;
    }
    // V8's Map keeps a deleted entry's slot until the table fills, and then doubles the table if
    // fewer than half its slots were deleted: a full topic (as many adds as deletes) would hold a
    // table twice its size from then on (~450 KB more at 10,000 events; the soak's step in memory).
    // Rebuilt from the live entries once half as many were deleted, it never fills: two sets per
    // append, amortized.
    if (++ring.idsDropped > Math.max(1024, (ring.entries.length - ring.head) >> 1)) {
      const ids = new Map<string, number>();
      for (let i = ring.head; i < ring.entries.length; i++) ids.set(ring.entries[i]!.event.id, ring.entries[i]!.seq);
      ring.ids = ids;
      ring.idsDropped = 0;
    }
  }
}
