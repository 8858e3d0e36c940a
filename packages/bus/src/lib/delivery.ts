import type {ContractRegistry, Envelope} from '@switchboard/contracts';
import type {DeadLetter} from './bus-options.js';
import type {Passage} from './passage.js';
import type {ReplayStore, Retention} from './replay.js';
import type {Subscription, SubscriptionTable} from './subscriptions.js';
import type {Origin, TraceLog} from './trace.js';
import {turnAt} from './turn-clock.js';

/** What {@link Delivery} works with: the bus's registry, subscriptions, replay store, trace and dead-letter sink. */
export interface DeliveryParts {
  readonly registry: ContractRegistry;
  readonly subscriptions: SubscriptionTable;
  readonly replay: ReplayStore;
  /** What each type retains for late subscribers. */
  readonly retention: ReadonlyMap<string, Retention>;
  readonly trace: TraceLog<Passage> | undefined;
  /** Time every event's handlers, not only while someone listens to the trace. */
  readonly traceTimings: boolean;
  readonly deadLetter: (letter: DeadLetter) => void;
}

/**
 * The bus's delivery: offers each accepted envelope to every matching subscription in publish
 * order (events published by handlers wait their turn), upcasting for subscribers of another
 * version, isolating and retrying failing handlers, keeping what late subscribers get, and the
 * trace. Knows the envelope whose handlers run now, the implicit parent of what they publish.
 */
export class Delivery {
  readonly #registry: ContractRegistry;
  readonly #subscriptions: SubscriptionTable;
  readonly #replay: ReplayStore;
  readonly #retention: ReadonlyMap<string, Retention>;
  readonly #trace: TraceLog<Passage> | undefined;
  readonly #traceTimings: boolean;
  readonly #deadLetter: (letter: DeadLetter) => void;
  /** The envelope whose handlers are running now: the implicit parent of what they publish. */
  #current: Envelope | undefined;
  /**
   * Events published while another is being delivered wait here, so every subscriber sees events in
   * publish order (a handler's event reaches everyone after the event it handled reached everyone).
   */
  readonly #queue: Array<{envelope: Envelope; origin: Origin}> = [];
  #delivering = false;

  constructor(parts: DeliveryParts) {
    this.#registry = parts.registry;
    this.#subscriptions = parts.subscriptions;
    this.#replay = parts.replay;
    this.#retention = parts.retention;
    this.#trace = parts.trace;
    this.#traceTimings = parts.traceTimings;
    this.#deadLetter = parts.deadLetter;
  }

  /** The envelope whose handlers are running now, if any. */
  get current(): Envelope | undefined {
    return this.#current;
  }

  /** Delivers an accepted envelope now, or after the one being delivered (and those queued before it). */
  deliver(envelope: Envelope, origin: Origin): void {
    if (this.#delivering) {
      this.#queue.push({envelope, origin});
      return;
    }
    this.#delivering = true;
    try {
      this.#dispatch(envelope, origin);
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) this.#dispatch(next.envelope, next.origin);
    } finally {
      this.#delivering = false;
    }
  }

  /** Offers one event to every matching subscription, in subscription order. */
  #dispatch(envelope: Envelope, origin: Origin): void {
    const kept = this.#retention.get(envelope.type);
    if (kept !== undefined) this.#replay.keep(envelope, kept);
    let passage: Passage | undefined;
    let start = 0;
    const timed = this.#trace !== undefined && (this.#traceTimings || this.#trace.listening);
    if (this.#trace !== undefined) {
      start = timed ? performance.now() : turnAt();
      passage = {envelope, type: envelope.type, source: envelope.source, origin, at: start, outcome: 'delivered', exact: undefined, wild: undefined, threw: undefined, ms: 0};
      this.#trace.add(passage, false);
    }
    const exact = this.#subscriptions.exact(envelope.type);
    if (exact !== undefined) {
      if (passage !== undefined) passage.exact = exact;
      this.#offerAll(exact, envelope, passage);
    }
    for (const w of this.#subscriptions.wildcards) {
      if (!w.matches(envelope.type)) continue;
      if (passage !== undefined) (passage.wild ??= []).push(w.list);
      this.#offerAll(w.list, envelope, passage);
    }
    if (passage !== undefined) {
      if (timed) passage.ms = performance.now() - start;
      this.#trace!.notify(passage);
    }
  }

  /**
   * Delivers to every subscription of a list. The common case (a live subscription of the event's
   * own version, not `once`) is called inline under one `try` for the whole list: this loop is the
   * cost of each extra subscriber, so it does no more per subscriber than an emitter's would.
   */
  #offerAll(list: readonly Subscription[], envelope: Envelope, passage: Passage | undefined): void {
    const previous = this.#current;
    this.#current = envelope;
    const version = envelope.version;
    let i = 0;
    try {
      while (i < list.length) {
        try {
          for (; i < list.length; i++) {
            const s = list[i]!;
            if (!s.active) continue;
            if (s.once || (s.version !== undefined && s.version !== version)) {
              this.offer(s, envelope, passage);
              continue;
            }
            const result = s.handler(envelope);
            if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
              (result as Promise<void>).then(undefined, (error: unknown) => this.#failed(s, envelope, error, 1));
            }
          }
        } catch (error) {
          const s = list[i++]!;
          this.#current = envelope;
          if (passage !== undefined) (passage.threw ??= []).push(s);
          this.#failed(s, envelope, error, 1);
        }
      }
    } finally {
      this.#current = previous;
    }
  }

  /** Delivers to one subscription, as the version it asked for. */
  offer(s: Subscription, envelope: Envelope, passage: Passage | undefined, unsubscribe?: () => void): void {
    if (!s.active) return;
    let delivered = envelope;
    if (s.version !== undefined && s.version !== envelope.version) {
      const upcast = this.#registry.upcast(envelope, s.version);
      if (!upcast.ok) return;
      delivered = upcast.value;
    }
    if (s.once) {
      s.active = false;
      if (unsubscribe !== undefined) unsubscribe();
      else this.#subscriptions.removeEverywhere(s);
    }
    this.#invoke(s, delivered, 1, passage);
  }

  #invoke(s: Subscription, envelope: Envelope, attempt: number, passage: Passage | undefined): void {
    const previous = this.#current;
    this.#current = envelope;
    try {
      const result = s.handler(envelope);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => this.#failed(s, envelope, error, attempt));
      }
    } catch (error) {
      if (passage !== undefined) (passage.threw ??= []).push(s);
      this.#failed(s, envelope, error, attempt);
    } finally {
      this.#current = previous;
    }
  }

  #failed(s: Subscription, envelope: Envelope, error: unknown, attempt: number): void {
    if (s.retry !== undefined && attempt < s.retry.attempts && (s.active || s.once)) {
      setTimeout(() => this.#invoke(s, envelope, attempt + 1, undefined), s.retry.backoffMs * 2 ** (attempt - 1));
      return;
    }
    this.#deadLetter({envelope, subscriber: s.name, error, attempt});
  }

  /** Runs `fn` with `envelope` as the implicit parent of what it publishes synchronously. */
  within<T>(envelope: Envelope, fn: () => T): T {
    const previous = this.#current;
    this.#current = envelope;
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }
}
