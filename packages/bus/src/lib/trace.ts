import type {Envelope, ValidationIssue} from '@switchboard/contracts';

/** Where an event entered the bus: a typed publish, the DOM, the hub (per topic), another tab. */
export type Origin = 'local' | 'dom' | 'tab' | `hub:${string}` | (string & {});

/** What happened to an event. */
export type Outcome = 'delivered' | 'rejected' | 'forbidden' | 'duplicate' | 'loop' | 'unhandled';

/** One handler's run on an event: who, and whether it threw (async failures show as dead letters). */
export interface HandlerRun {
  readonly subscriber: string;
  readonly ok: boolean;
}

/** One event's passage through the bus, as devtools show it. */
export interface TraceRecord {
  /** The envelope, when the input made one (a rejected input may not). */
  readonly envelope: Envelope | undefined;
  readonly type: string;
  readonly source: string;
  readonly origin: Origin;
  /** When the bus took it, on the `performance.now()` clock (millisecond precision unless timed). */
  readonly at: number;
  readonly outcome: Outcome;
  /** Why it was not delivered, for every outcome but `delivered`. */
  readonly error?: string;
  readonly issues?: readonly ValidationIssue[];
  /** Each handler that ran on it, in order. */
  readonly handlers: readonly HandlerRun[];
  /**
   * Milliseconds all its handlers took together (synchronous part); measured while someone listens
   * with `onTrace` or with `traceTimings`, else 0.
   */
  readonly ms: number;
}

/** The last `capacity` records, in a ring (adding is one slot write), and live listeners. */
export class TraceLog<R = TraceRecord> {
  readonly #ring: Array<R | undefined>;
  #next = 0;
  #size = 0;
  readonly #listeners = new Set<(record: R) => void>();

  constructor(readonly capacity: number) {
    this.#ring = new Array<R | undefined>(capacity);
  }

  /** Keeps `record` in arrival order; listeners hear of it now, or at {@link notify} if `notify` is false. */
  add(record: R, notify = true): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    if (notify) this.notify(record);
  }

  /** Whether anyone listens live. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** Tells the listeners about a record, e.g. once an event's handlers have run. */
  notify(record: R): void {
    if (this.#listeners.size > 0) for (const listener of this.#listeners) listener(record);
  }

  /** The records kept, oldest first. */
  records(): readonly R[] {
    const start = this.#size < this.capacity ? 0 : this.#next;
    const out: R[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#ring[(start + i) % this.capacity]!);
    return out;
  }

  listen(listener: (record: R) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
