import type {Envelope} from '@switchboard/contracts';

/** One page event waiting to be published on a server topic. */
export interface OutboxEntry {
  readonly topic: string;
  readonly envelope: Envelope;
}

/** Bounds of one batch the {@link Outbox} sends at a time. */
export interface OutboxLimits {
  /** At most this many events in flight at once; default 32. */
  readonly maxEvents?: number;
  /** At most about this many bytes (JSON) in flight at once; default 16,384, half the hub's 32 KB message limit. */
  readonly maxBytes?: number;
}

/**
 * The page events the bridge still has to publish, sent in bounded batches.
 *
 * The official client writes everything sent within one turn of the event loop as one transport
 * message, and a hub may refuse a transport message over its size limit (32 KB by default) by
 * closing the connection. Flushing 100 queued events at once therefore made one oversized message,
 * a close, a reconnect, the same message again, forever. Here a batch stays under `maxBytes` and
 * `maxEvents`, and the next one leaves only when the previous one was answered. Order is kept: an
 * event whose connection was lost goes back to the front. A single event larger than
 * `maxBytes` still goes, alone: the hub's own limit answers it.
 */
export class Outbox {
  readonly #queue: OutboxEntry[] = [];
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  #flushing = false;

  constructor(limits: OutboxLimits = {}) {
    this.#maxEvents = limits.maxEvents ?? 32;
    this.#maxBytes = limits.maxBytes ?? 16_384;
  }

  /** How many events wait. */
  get size(): number {
    return this.#queue.length;
  }

  /** Queues one event, after every event already waiting. */
  push(entry: OutboxEntry): void {
    this.#queue.push(entry);
  }

  /**
   * Sends what waits, batch by batch, while `canSend()` holds. `send` publishes one event: it
   * resolves once the hub answered (with an offset or with a refusal, which the caller reports),
   * and rejects only when the connection was lost first. Those events go back to the front, in
   * order, for the next flush (the hub keeps one event per id, so resending one that did arrive
   * changes nothing). Concurrent calls share one flush.
   */
  async flush(send: (entry: OutboxEntry) => Promise<unknown>, canSend: () => boolean): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && canSend()) {
        const batch = this.#take();
        const results = await Promise.allSettled(batch.map((entry) => send(entry)));
        const lost = batch.filter((_, i) => results[i]!.status === 'rejected');
        if (lost.length === 0) continue;
        // Back to the front, in order: later events must not overtake them.
        this.#queue.unshift(...lost);
        return;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #take(): OutboxEntry[] {
    const batch: OutboxEntry[] = [];
    let bytes = 0;
    while (batch.length < this.#maxEvents && this.#queue.length > 0) {
      const size = JSON.stringify(this.#queue[0]!.envelope).length + this.#queue[0]!.topic.length + 64;
      if (batch.length > 0 && bytes + size > this.#maxBytes) break;
      bytes += size;
      batch.push(this.#queue.shift()!);
    }
    return batch;
  }
}
