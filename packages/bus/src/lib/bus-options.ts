import type {ContractRegistry, Envelope, EnvelopeOptions, ValidationIssue} from '@switchboard/contracts';
import type {TypePattern} from './patterns.js';
import type {Origin} from './trace.js';

/** A subscriber: called once per delivered envelope. A thrown error or rejected promise is isolated. */
export type Handler<E extends Envelope = Envelope> = (envelope: E) => void | Promise<void>;

/** Retries of a failing subscriber: `attempts` in all, waiting `backoffMs`, doubling each time. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
}

/** Options of {@link Bus.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription when aborted. */
  readonly signal?: AbortSignal;
  /** Names the subscriber in dead letters and traces, e.g. `mfe:order-tracker`. */
  readonly name?: string;
  /** Deliver what the contract retains for late subscribers first (default), or live events only. */
  readonly replay?: boolean;
  /** End the subscription after the first delivery. */
  readonly once?: boolean;
  /** Retry a failing delivery before it becomes a dead letter. */
  readonly retry?: RetryPolicy;
}

/**
 * Options of {@link Bus.publish}: who produced the event and which flow it belongs to. Inside a
 * handler, `parent` defaults to the event being handled (synchronously; after an `await`, pass it).
 */
export type PublishOptions = Partial<EnvelopeOptions>;

/** Options of {@link Bus.request}. */
export interface RequestOptions extends PublishOptions {
  /** How long to wait for the answer; default 10 s. */
  readonly timeoutMs?: number;
  /** Abandons the request. */
  readonly signal?: AbortSignal;
}

/** A delivery that failed for good: the subscriber threw or rejected on its last attempt. */
export interface DeadLetter {
  readonly envelope: Envelope;
  readonly subscriber: string;
  readonly error: unknown;
  readonly attempt: number;
}

/** An input refused (invalid, forbidden, a loop): delivered to no one. */
export interface Rejection {
  readonly input: unknown;
  readonly origin: Origin;
  readonly error: string;
  readonly issues: readonly ValidationIssue[];
}

/** Which sources may publish which types. */
export interface PublishPermissions {
  /** Source (`mfe:order-form`) → the type patterns it may publish. */
  readonly rules: Readonly<Record<string, readonly TypePattern[]>>;
  /** Whether sources without a rule may publish anything; default `allow`. */
  readonly otherSources?: 'allow' | 'deny';
}

/** Options of the {@link Bus} constructor. */
export interface BusOptions {
  /** The contracts the bus knows; contracts passed to publish and subscribe are added to it. */
  readonly registry?: ContractRegistry;
  /** The `source` of envelopes published without one; default `page`. */
  readonly source?: string;
  /**
   * `always` (default) validates every publish; `boundaries` skips typed publishes from code of the
   * same bundle, whose types the compiler already checked, and still validates DOM, hub and tab input.
   */
  readonly validation?: 'always' | 'boundaries';
  readonly permissions?: PublishPermissions;
  /** Longest causation chain before the bus calls it a loop; default 32. */
  readonly maxCausationDepth?: number;
  /**
   * Envelope ids remembered for dedupe (and causation depth); default 1,000, which at a page's rates
   * covers far more than the time an event takes to come back from the server.
   */
  readonly dedupeWindow?: number;
  /** Trace records kept for {@link Bus.inspect}; default 500, 0 turns tracing off. */
  readonly traceCapacity?: number;
  /**
   * Time every event's handlers for its trace record (`ms`). By default the bus times them only
   * while an {@link Bus.onTrace} listener (devtools) is attached, since the clock is not free.
   */
  readonly traceTimings?: boolean;
  /** Dead letters kept in {@link Bus.deadLetters}; default 100. */
  readonly deadLetterCapacity?: number;
  /** Called for every dead letter; by default each is logged with `console.error`. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** Called for every refused input; by default each is logged with `console.warn`. */
  readonly onReject?: (rejection: Rejection) => void;
}
