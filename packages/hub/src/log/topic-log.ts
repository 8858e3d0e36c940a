import type {Envelope} from '@switchboard/contracts';

/** One retained event and its position in its topic. */
export interface LogEntry {
  /** Opaque to clients; increasing within the topic. */
  readonly offset: string;
  readonly event: Envelope;
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
  /** True when events after the requested offset were already dropped by retention. */
  readonly truncated: boolean;
  /** The offset to pass as `after` to read on; the last entry's, or the requested one when empty. */
  readonly next: string | null;
}

/**
 * A per-topic retained log answering at once (in process). The hub uses logs through the
 * asynchronous `TopicLog` seam; `asyncTopicLog` adapts one of these to it.
 */
export interface SyncTopicLog {
  /** Appends `event` unless an event with its id is retained already (idempotent publish). */
  append(topic: string, event: Envelope): AppendResult;
  /** Up to `limit` events after `after` (`null`: from the oldest retained), in order. */
  read(topic: string, after: string | null, limit: number): ReadResult;
  /** The offset of the newest event, or `null` for an empty topic. */
  head(topic: string): string | null;
  /** Whether `offset` could have been produced by this log (so bad client input is refused early). */
  isOffset(offset: string): boolean;
  /** Events retained now per topic, for metrics (optional). */
  sizes?(): Map<string, number>;
}

interface Ring {
  /** Sequence number of the oldest retained entry, entries[head]. */
  first: number;
  /** Sequence number the next append gets. */
  next: number;
  /** Retained entries start at `head`; the dropped prefix is cut off in bulk, not one shift per append. */
  entries: Array<{seq: number; event: Envelope; at: number}>;
  head: number;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  ids: Map<string, number>;
}

/** How much of a topic is kept: by count, by age, or both. */
export interface Retention {
  /** Events kept; the oldest go first. */
  readonly maxEvents?: number;
  /** Events older than this are dropped. */
  readonly maxAgeMs?: number;
}

/** Retention of the in-memory log. */
export interface MemoryTopicLogOptions extends Retention {
  /** Per-topic retention, overriding the defaults (10,000 events, no age limit). */
  readonly topics?: Readonly<Record<string, Retention>>;
  readonly now?: () => number;
}

/**
 * The default {@link SyncTopicLog}: one bounded array per topic. Offsets are the decimal sequence
 * numbers 1, 2, 3…; clients must treat them as opaque.
 */
export class MemoryTopicLog implements SyncTopicLog {
  readonly #topics = new Map<string, Ring>();
  readonly #defaults: Retention;
  readonly #perTopic: Readonly<Record<string, Retention>>;
  readonly #now: () => number;

  constructor(options: MemoryTopicLogOptions = {}) {
    this.#defaults = {maxEvents: options.maxEvents ?? 10_000, maxAgeMs: options.maxAgeMs ?? Number.POSITIVE_INFINITY};
    this.#perTopic = options.topics ?? {};
    this.#now = options.now ?? Date.now;
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

  append(topic: string, event: Envelope): AppendResult {
    const ring = this.#ring(topic);
    this.#expire(ring);
    const existing = ring.ids.get(event.id);
    if (existing !== undefined) return {offset: String(existing), duplicate: true};
    const seq = ring.next++;
    ring.entries.push({seq, event, at: this.#now()});
    ring.ids.set(event.id, seq);
    while (ring.entries.length - ring.head > ring.maxEvents) this.#dropOldest(ring);
    return {offset: String(seq), duplicate: false};
  }

  read(topic: string, after: string | null, limit: number): ReadResult {
    const ring = this.#topics.get(topic);
    const from = after === null ? 0 : Number(after);
    if (ring === undefined) return {entries: [], truncated: false, next: after};
    this.#expire(ring);
    // Events first..next-1 are retained; anything in (from, first) is lost.
    const truncated = from + 1 < ring.first;
    const start = ring.head + Math.max(0, from + 1 - ring.first);
    const entries = ring.entries
      .slice(start, start + Math.max(0, limit)).map((e) => ({offset: String(e.seq), event: e.event}));
    return {entries, truncated, next: entries.length > 0 ? entries[entries.length - 1]!.offset : after};
  }

  head(topic: string): string | null {
    const ring = this.#topics.get(topic);
    return ring === undefined || ring.next === 1 ? null : String(ring.next - 1);
  }

  isOffset(offset: string): boolean {
    return /^(0|[1-9][0-9]{0,15})$/.test(offset);
  }

  #ring(topic: string): Ring {
    let ring = this.#topics.get(topic);
    if (ring === undefined) {
      const own = this.#perTopic[topic] ?? {};
      ring = {
        first: 1,
        next: 1,
        entries: [],
        head: 0,
        ids: new Map(),
        maxEvents: own.maxEvents ?? this.#defaults.maxEvents!,
        maxAgeMs: own.maxAgeMs ?? this.#defaults.maxAgeMs!,
      };
      this.#topics.set(topic, ring);
    }
    return ring;
  }

  #expire(ring: Ring): void {
    if (ring.maxAgeMs === Number.POSITIVE_INFINITY) return;
    const oldest = this.#now() - ring.maxAgeMs;
    while (ring.head < ring.entries.length && ring.entries[ring.head]!.at < oldest) this.#dropOldest(ring);
  }

  #dropOldest(ring: Ring): void {
    const dropped = ring.entries[ring.head++]!;
    ring.ids.delete(dropped.event.id);
    ring.first = dropped.seq + 1;
    if (ring.head > 1024 && ring.head * 2 > ring.entries.length) {
      ring.entries = ring.entries.slice(ring.head);
      ring.head = 0;
    }
  }
}
