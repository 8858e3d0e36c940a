import type {Envelope, ValidationIssue} from '@switchboard/contracts';

/** Where an event entered the bus: a typed publish, the DOM, the hub (per topic), another tab. */
export type Origin = 'local' | 'dom' | 'tab' | `hub:${string}` | (string & {});

/** What happened to an event. */
export type Outcome = 'delivered' | 'rejected' | 'forbidden' | 'duplicate' | 'loop' | 'unhandled';

/** One handler's run on an event. */
export interface HandlerRun {
  readonly subscriber: string;
  readonly ms: number;
  readonly ok: boolean;
}

/** One event's passage through the bus, as devtools show it. */
export interface TraceRecord {
  /** The envelope, when the input made one (a rejected input may not). */
  readonly envelope: Envelope | undefined;
  readonly type: string;
  readonly source: string;
  readonly origin: Origin;
  /** `performance.now()` when the bus took it. */
  readonly at: number;
  readonly outcome: Outcome;
  /** Why it was not delivered, for every outcome but `delivered`. */
  readonly error?: string;
  readonly issues?: readonly ValidationIssue[];
  /** Each handler that ran, with its time; filled in as they run. */
  readonly handlers: HandlerRun[];
}

/** The last `capacity` trace records, oldest first, and live listeners. */
export class TraceLog {
  readonly #records: TraceRecord[] = [];
  readonly #listeners = new Set<(record: TraceRecord) => void>();
  constructor(readonly capacity: number) {}

  add(record: TraceRecord): void {
    this.#records.push(record);
    if (this.#records.length > this.capacity) this.#records.splice(0, this.#records.length - this.capacity);
    for (const listener of this.#listeners) listener(record);
  }

  records(): readonly TraceRecord[] {
    return [...this.#records];
  }

  listen(listener: (record: TraceRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
