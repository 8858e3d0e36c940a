import {
  ContractRegistry,
  type Contract,
  type Envelope,
  type EnvelopeOf,
  type EnvelopeOptions,
  type InputOf,
  type Upcaster,
  type ValidationIssue,
  type ValidationResult,
} from '@switchboard/contracts';
import {
  AmbiguousResponderError,
  CausationLoopError,
  DuplicateHandlerError,
  EventValidationError,
  NoHandlerError,
  NoResponderError,
  PermissionError,
  RequestTimeoutError,
} from './errors.js';
import {IdMaker} from './ids.js';
import {isWildcard, matcher, type TypePattern} from './patterns.js';
import {ReplayStore, retention, type Retention} from './replay.js';
import {SeenIds} from './seen-ids.js';
import {TraceLog, type Origin, type Outcome, type TraceRecord} from './trace.js';
import {turnAt, turnIso} from './turn-clock.js';

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

interface Subscription {
  readonly handler: Handler;
  readonly name: string;
  /** When set, envelopes are delivered as this version (upcast if older, skipped if newer). */
  readonly version: number | undefined;
  readonly once: boolean;
  readonly retry: RetryPolicy | undefined;
  active: boolean;
}

interface Wildcard {
  readonly pattern: string;
  readonly matches: (type: string) => boolean;
  list: readonly Subscription[];
}

type Responder = (envelope: Envelope) => unknown;

/** Marks a DOM event already routed by a bus, so nested roots never route it twice (works across bundles). */
const ROUTED = Symbol.for('switchboard.routed');
/**
 * An event's passage as the bus records it while delivering: the subscriber lists it was offered to
 * (immutable snapshots, so keeping them costs nothing) and who threw. Turned into a
 * {@link TraceRecord} only when someone inspects it.
 */
interface Passage extends Omit<TraceRecord, 'handlers' | 'ms'> {
  /** The exact-type list it was offered to, then wildcard lists (rare, so allocated only then). */
  exact: readonly Subscription[] | undefined;
  wild: Array<readonly Subscription[]> | undefined;
  threw: Subscription[] | undefined;
  ms: number;
}

/**
 * The page bus: typed publish/subscribe of event envelopes, validated against their contracts, with
 * every pattern micro frontends need: wildcards, replay for late subscribers, commands with exactly
 * one handler, request/response, dedupe by envelope id, dead letters with retries, a loop guard,
 * automatic correlation, publish permissions and an inspection API.
 *
 * Handlers are called directly, not through one DOM event each: dispatching a CustomEvent per
 * subscriber costs several times more, and the bus is on every page's hot path. The DOM is the bus's
 * ingress instead: {@link Bus.attach} routes any bubbling CustomEvent whose type is a registered
 * contract, so elements of any framework can publish without importing anything.
 *
 * ```ts
 * const bus = new Bus({registry: shopRegistry()});
 * const stop = bus.subscribe(OrderPlaced, (e) => console.log(e.data.orderId));
 * bus.publish(OrderPlaced, {orderId: 'o-1', sku: 'tea', quantity: 2}, {source: 'mfe:order-form'});
 * stop();
 * ```
 */
export class Bus {
  /** The contracts this bus validates against. */
  readonly registry: ContractRegistry;
  readonly #source: string;
  readonly #validateTyped: boolean;
  readonly #permissions: PublishPermissions | undefined;
  readonly #permissionMatchers = new Map<string, ReadonlyArray<(type: string) => boolean>>();
  readonly #maxDepth: number;
  readonly #onDeadLetter: (letter: DeadLetter) => void;
  readonly #onReject: (rejection: Rejection) => void;
  /** Copy-on-write lists: a dispatch iterates the array it started with, whatever handlers do. */
  readonly #exact = new Map<string, readonly Subscription[]>();
  #wildcards: readonly Wildcard[] = [];
  readonly #responders = new Map<string, readonly Responder[]>();
  readonly #commandTypes = new Set<string>();
  /**
   * Envelope ids seen, with their causation depth: the last `dedupeWindow` that came from outside
   * or with ids of their own here, and the last `dedupeWindow` this bus minted in #ids.
   */
  readonly #seen: SeenIds;
  readonly #ids: IdMaker;
  /** Contracts already registered through this bus: publish skips registering them again. */
  readonly #known = new WeakSet<Contract>();
  readonly #replay = new ReplayStore();
  readonly #retention = new Map<string, Retention>();
  readonly #trace: TraceLog<Passage> | undefined;
  readonly #traceTimings: boolean;
  readonly #deadLetters: DeadLetter[] = [];
  readonly #deadLetterCapacity: number;
  readonly #roots = new Set<EventTarget>();
  readonly #domListeners = new Map<EventTarget, Map<string, EventListener>>();
  /** The envelope whose handlers are running now: the implicit parent of what they publish. */
  #current: Envelope | undefined;
  /**
   * Events published while another is being delivered wait here, so every subscriber sees events in
   * publish order (a handler's event reaches everyone after the event it handled reached everyone).
   */
  readonly #queue: Array<{envelope: Envelope; origin: Origin}> = [];
  #delivering = false;
  /** Subscriptions per pattern, not counting the kit's own (named `switchboard:…`). */
  readonly #interest = new Map<string, number>();
  readonly #interestListeners = new Set<(patterns: ReadonlySet<string>) => void>();

  constructor(options: BusOptions = {}) {
    this.registry = options.registry ?? new ContractRegistry();
    this.#source = options.source ?? 'page';
    this.#validateTyped = (options.validation ?? 'always') === 'always';
    this.#permissions = options.permissions;
    this.#maxDepth = options.maxCausationDepth ?? 32;
    const window = Math.max(1, options.dedupeWindow ?? 1000);
    this.#seen = new SeenIds(window);
    this.#ids = new IdMaker(window);
    const capacity = options.traceCapacity ?? 500;
    this.#trace = capacity > 0 ? new TraceLog(capacity) : undefined;
    this.#traceTimings = options.traceTimings ?? false;
    this.#deadLetterCapacity = options.deadLetterCapacity ?? 100;
    this.#onDeadLetter =
      options.onDeadLetter ??
      ((l) => console.error(`switchboard: ${l.subscriber} failed on ${l.envelope.type} ${l.envelope.id} (attempt ${l.attempt})`, l.error));
    this.#onReject = options.onReject ?? ((r) => console.warn(`switchboard: rejected from ${r.origin}: ${r.error}`));
    for (const contract of this.registry.contracts()) this.#learn(contract);
  }

  /** Adds contracts (and upcasters) to the registry and starts routing their DOM events on attached roots. */
  register(...items: ReadonlyArray<Contract | Upcaster>): this {
    this.registry.register(...items);
    for (const item of items) {
      if ('upcast' in item) {
        this.#learn(item.from);
        this.#learn(item.to);
      } else this.#learn(item);
    }
    for (const root of this.#roots) this.#listen(root);
    return this;
  }

  /**
   * Validates `data` against `contract`, wraps it in an envelope and delivers it to every matching
   * subscriber (a command: to its handler). Throws, delivering nothing, when the data is invalid
   * ({@link EventValidationError}), the source may not publish it ({@link PermissionError}), the
   * causation chain is too deep ({@link CausationLoopError}), or a command has no handler
   * ({@link NoHandlerError}).
   */
  publish<C extends Contract>(contract: C, data: InputOf<C>, options: PublishOptions = {}): EnvelopeOf<C> {
    return this.#publish(contract, data, options, this.#validateTyped, 'local') as EnvelopeOf<C>;
  }

  /**
   * Takes an envelope from outside the page's trust boundary (the hub, another tab), validates it and
   * delivers it. Never throws: an invalid input is reported through `onReject` and returned. An id
   * delivered before is dropped, so an event that arrives both locally and from the server counts once.
   */
  ingest(input: unknown, origin: Origin): ValidationResult<Envelope> {
    const result = this.registry.validate(input);
    if (!result.ok) {
      this.#refuse(input, origin, 'rejected', result.error, result.issues);
      return result;
    }
    const envelope = result.value;
    const causeDepth = envelope.causationId === undefined ? undefined : this.#depthOf(envelope.causationId);
    if (!this.#checkDepth(envelope, origin, (causeDepth ?? 0) + 1)) {
      return {ok: false, error: `causation chain deeper than ${this.#maxDepth}`, issues: []};
    }
    this.#deliver(envelope, origin, (causeDepth ?? 0) + 1, true);
    return result;
  }

  /**
   * Calls `handler` for every envelope of `target`: a contract (delivered as that version: older
   * versions are upcast, typed), a type name, a prefix wildcard (`order.*`), or `*` for everything.
   * What the contract retains for late subscribers is delivered first, unless `replay: false`.
   * Returns a function that ends the subscription.
   */
  subscribe<C extends Contract>(target: C, handler: Handler<EnvelopeOf<C>>, options?: SubscribeOptions): () => void;
  subscribe(target: TypePattern, handler: Handler, options?: SubscribeOptions): () => void;
  subscribe(target: Contract | TypePattern, handler: Handler<never>, options: SubscribeOptions = {}): () => void {
    const {signal} = options;
    if (signal?.aborted) return () => {};
    if (typeof target !== 'string') this.register(target);
    const pattern = typeof target === 'string' ? target : target.type;
    const subscription: Subscription = {
      handler: handler as Handler,
      name: options.name ?? 'anonymous',
      version: typeof target === 'string' ? undefined : target.version,
      once: options.once ?? false,
      retry: options.retry,
      active: true,
    };
    const unsubscribe = (): void => {
      subscription.active = false;
      signal?.removeEventListener('abort', unsubscribe);
      this.#remove(pattern, subscription);
    };
    signal?.addEventListener('abort', unsubscribe, {once: true});
    if (options.replay !== false) {
      const matches = matcher(pattern);
      const retained = this.#replay.retained(matches, (type) => this.#retention.get(type)?.ttlMs ?? 0);
      for (const envelope of retained) {
        if (!subscription.active) break;
        this.#offer(subscription, envelope, undefined, unsubscribe);
      }
    }
    if (subscription.active) this.#add(pattern, subscription);
    return unsubscribe;
  }

  /** Resolves with the next envelope of `target` (after replay, if the contract retains any). */
  once<C extends Contract>(target: C, options?: {signal?: AbortSignal; replay?: boolean}): Promise<EnvelopeOf<C>>;
  once(target: TypePattern, options?: {signal?: AbortSignal; replay?: boolean}): Promise<Envelope>;
  once(target: Contract | TypePattern, options: {signal?: AbortSignal; replay?: boolean} = {}): Promise<Envelope> {
    return new Promise((resolve, reject) => {
      const {signal} = options;
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), {once: true});
      const opts = {once: true, name: 'once', ...options};
      if (typeof target === 'string') this.subscribe(target, (e) => resolve(e), opts);
      else this.subscribe(target, (e) => resolve(e as Envelope), opts);
    });
  }

  /**
   * Registers the one handler of a command; its return value answers {@link Bus.send}. A second
   * handler for the same command throws {@link DuplicateHandlerError}. Returns a function that
   * unregisters it.
   */
  handle<C extends Contract>(command: C, handler: (envelope: EnvelopeOf<C>) => unknown): () => void {
    if (command.kind !== 'command') throw new TypeError(`"${command.type}" is an event, not a command: subscribe to it instead`);
    if ((this.#responders.get(command.type)?.length ?? 0) > 0) {
      throw new DuplicateHandlerError(`"${command.type}" already has a handler: a command has exactly one`);
    }
    this.#commandTypes.add(command.type);
    return this.respond(command, handler);
  }

  /** Registers a responder to requests of `contract`. Returns a function that unregisters it. */
  respond<C extends Contract>(contract: C, responder: (envelope: EnvelopeOf<C>) => unknown): () => void {
    this.register(contract);
    const r = responder as Responder;
    this.#responders.set(contract.type, [...(this.#responders.get(contract.type) ?? []), r]);
    return () => {
      const left = (this.#responders.get(contract.type) ?? []).filter((x) => x !== r);
      if (left.length === 0) this.#responders.delete(contract.type);
      else this.#responders.set(contract.type, left);
    };
  }

  /** Sends a command to its one handler and resolves with the handler's result. */
  send<C extends Contract>(command: C, data: InputOf<C>, options: RequestOptions = {}): Promise<unknown> {
    return this.request(command, data, options);
  }

  /**
   * Publishes `data` as a request and resolves with its one responder's answer. Rejects with
   * {@link NoResponderError} (or {@link NoHandlerError} for a command), {@link AmbiguousResponderError}
   * when several respond, {@link RequestTimeoutError} after `timeoutMs`, or the signal's reason when
   * aborted.
   */
  request<C extends Contract, R = unknown>(contract: C, data: InputOf<C>, options: RequestOptions = {}): Promise<R> {
    const {timeoutMs = 10_000, signal, ...publishOptions} = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const responders = this.#responders.get(contract.type) ?? [];
    if (responders.length === 0) {
      return Promise.reject(
        contract.kind === 'command'
          ? new NoHandlerError(`no handler for command "${contract.type}"`)
          : new NoResponderError(`no responder for "${contract.type}"`),
      );
    }
    if (responders.length > 1) {
      return Promise.reject(new AmbiguousResponderError(`${responders.length} responders for "${contract.type}"; a request needs exactly one`));
    }
    let envelope: Envelope;
    try {
      envelope = this.#publish(contract, data, publishOptions, this.#validateTyped, 'local', true);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new RequestTimeoutError(`"${contract.type}" got no answer within ${timeoutMs} ms`))), timeoutMs);
      const onAbort = (): void => finish(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, {once: true});
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      Promise.resolve()
        .then(() => this.#within(envelope, () => responders[0]!(envelope)))
        .then(
          (answer) => finish(() => resolve(answer as R)),
          (error: unknown) => finish(() => reject(error)),
        );
    });
  }

  /** How many subscriptions are live, over all types: for leak checks and devtools. */
  get subscriberCount(): number {
    let n = 0;
    for (const list of this.#exact.values()) n += list.length;
    for (const w of this.#wildcards) n += w.list.length;
    return n;
  }

  /**
   * Calls `listener` with the set of patterns the page's subscribers want, now and whenever it
   * changes (a first subscriber of a pattern, a last one leaving). The kit's own subscriptions,
   * named `switchboard:…`, do not count. The hub bridge follows server topics by it.
   */
  onInterest(listener: (patterns: ReadonlySet<string>) => void): () => void {
    this.#interestListeners.add(listener);
    listener(new Set(this.#interest.keys()));
    return () => this.#interestListeners.delete(listener);
  }

  /** The last events through the bus, oldest first, with their handlers and outcomes. */
  inspect(): readonly TraceRecord[] {
    return (this.#trace?.records() ?? []).map(toRecord);
  }

  /**
   * Calls `listener` with every event's trace record once its synchronous handlers ran; returns a
   * function that stops it.
   */
  onTrace(listener: (record: TraceRecord) => void): () => void {
    return this.#trace?.listen((p) => listener(toRecord(p))) ?? (() => {});
  }

  /** The last dead letters, oldest first. */
  get deadLetters(): readonly DeadLetter[] {
    return [...this.#deadLetters];
  }

  /**
   * Routes DOM CustomEvents that reach `root` (a document, a shell element, any EventTarget) and whose
   * type is a registered contract: `detail` is the data, always validated (a trust boundary); `source`
   * is `mfe:<tag>` of the nearest custom element that dispatched it. Returns a function that detaches.
   *
   * ```html
   * <script>el.dispatchEvent(new CustomEvent('order.placed', {detail: {...}, bubbles: true, composed: true}))</script>
   * ```
   */
  attach(root: EventTarget): () => void {
    this.#roots.add(root);
    this.#listen(root);
    return () => {
      this.#roots.delete(root);
      for (const [type, listener] of this.#domListeners.get(root) ?? []) root.removeEventListener(type, listener);
      this.#domListeners.delete(root);
    };
  }

  #learn(contract: Contract): void {
    const kept = retention(contract.replay);
    if (kept !== undefined) this.#retention.set(contract.type, kept);
    if (contract.kind === 'command') this.#commandTypes.add(contract.type);
  }

  #publish(contract: Contract, data: unknown, options: PublishOptions, validate: boolean, origin: Origin, isRequest = false): Envelope {
    if (!this.#known.has(contract)) {
      this.register(contract);
      this.#known.add(contract);
    }
    const source = options.source ?? this.#source;
    if (!this.#allowed(source, contract.type)) {
      const error = `${source} may not publish "${contract.type}"`;
      this.#refuse(data, origin, 'forbidden', error, [], contract.type, source);
      throw new PermissionError(error);
    }
    let value = data;
    if (validate) {
      const parsed = this.registry.validateData(contract, data);
      if (!parsed.ok) {
        this.#refuse(data, origin, 'rejected', parsed.error, parsed.issues, contract.type, source);
        throw new EventValidationError(parsed.error, parsed.issues);
      }
      value = parsed.value;
    }
    const parent = options.parent ?? this.#current;
    // What createEnvelope makes, built in place: an id of this bus's own (never seen before, so no
    // dedupe lookup) and the turn's time, since this is every publish's cost.
    const depth = parent === undefined ? 1 : (this.#depthOf(parent.id) ?? 0) + 1;
    const minted = options.id === undefined;
    const id = minted ? this.#ids.mint(depth) : options.id!;
    const causationId = options.causationId ?? parent?.id;
    const envelope: {-readonly [K in keyof Envelope]: Envelope[K]} = {
      id,
      type: contract.type,
      version: contract.version,
      time: options.time ?? turnIso(),
      source,
      correlationId: options.correlationId ?? parent?.correlationId ?? id,
      data: value,
    };
    if (causationId !== undefined) envelope.causationId = causationId;
    if (!this.#checkDepth(envelope, origin, depth)) {
      throw new CausationLoopError(`"${contract.type}" would make a causation chain deeper than ${this.#maxDepth}: stopped`);
    }
    if (contract.kind === 'command' && !isRequest) {
      const handlers = this.#responders.get(contract.type);
      if (handlers === undefined || handlers.length === 0) {
        this.#refuse(envelope, origin, 'unhandled', `no handler for command "${contract.type}"`, [], contract.type, source);
        throw new NoHandlerError(`no handler for command "${contract.type}"`);
      }
      this.#deliver(envelope, origin, depth, !minted);
      void Promise.resolve()
        .then(() => this.#within(envelope, () => handlers[0]!(envelope)))
        .catch((error: unknown) => this.#deadLetter({envelope, subscriber: `handler of ${contract.type}`, error, attempt: 1}));
      return envelope;
    }
    this.#deliver(envelope, origin, depth, !minted);
    return envelope;
  }

  #allowed(source: string, type: string): boolean {
    const permissions = this.#permissions;
    if (permissions === undefined) return true;
    const patterns = permissions.rules[source];
    if (patterns === undefined) return (permissions.otherSources ?? 'allow') === 'allow';
    let matchers = this.#permissionMatchers.get(source);
    if (matchers === undefined) this.#permissionMatchers.set(source, (matchers = patterns.map(matcher)));
    return matchers.some((m) => m(type));
  }

  #checkDepth(envelope: Envelope, origin: Origin, depth: number): boolean {
    if (depth <= this.#maxDepth) return true;
    this.#refuse(envelope, origin, 'loop', `causation chain deeper than ${this.#maxDepth} at "${envelope.type}" (correlation ${envelope.correlationId})`, []);
    return false;
  }

  #refuse(input: unknown, origin: Origin, outcome: Outcome, error: string, issues: readonly ValidationIssue[], type?: string, source?: string): void {
    const envelope = isEnvelope(input) ? input : undefined;
    this.#trace?.add({
      envelope,
      type: type ?? envelope?.type ?? typeOf(input),
      source: source ?? envelope?.source ?? origin,
      origin,
      at: performance.now(),
      outcome,
      error,
      issues,
      exact: undefined,
      wild: undefined,
      threw: undefined,
      ms: 0,
    });
    this.#onReject({input, origin, error, issues});
  }

  /** The causation depth remembered for an envelope id, if it is still in the dedupe window. */
  #depthOf(id: string): number | undefined {
    return this.#ids.recall(id) ?? this.#seen.get(id);
  }

  /**
   * Delivers unless the id was seen. `check` is false for an id this bus just minted, which is new
   * and already remembered; any other id is looked up and remembered here.
   */
  #deliver(envelope: Envelope, origin: Origin, depth: number, check: boolean): void {
    if (check && this.#depthOf(envelope.id) !== undefined) {
      this.#trace?.add({
        envelope, type: envelope.type, source: envelope.source, origin, at: performance.now(), outcome: 'duplicate',
        error: 'already delivered', exact: undefined, wild: undefined, threw: undefined, ms: 0,
      });
      return;
    }
    if (check) this.#seen.add(envelope.id, depth);
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
    const exact = this.#exact.get(envelope.type);
    if (exact !== undefined) {
      if (passage !== undefined) passage.exact = exact;
      this.#offerAll(exact, envelope, passage);
    }
    for (const w of this.#wildcards) {
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
              this.#offer(s, envelope, passage);
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
  #offer(s: Subscription, envelope: Envelope, passage: Passage | undefined, unsubscribe?: () => void): void {
    if (!s.active) return;
    let delivered = envelope;
    if (s.version !== undefined && s.version !== envelope.version) {
      const upcast = this.registry.upcast(envelope, s.version);
      if (!upcast.ok) return;
      delivered = upcast.value;
    }
    if (s.once) {
      s.active = false;
      if (unsubscribe !== undefined) unsubscribe();
      else this.#removeEverywhere(s);
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

  #deadLetter(letter: DeadLetter): void {
    this.#deadLetters.push(letter);
    if (this.#deadLetters.length > this.#deadLetterCapacity) this.#deadLetters.shift();
    this.#onDeadLetter(letter);
  }

  /** Runs `fn` with `envelope` as the implicit parent of what it publishes synchronously. */
  #within<T>(envelope: Envelope, fn: () => T): T {
    const previous = this.#current;
    this.#current = envelope;
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }

  #add(pattern: string, s: Subscription): void {
    this.#countInterest(pattern, s, 1);
    if (!isWildcard(pattern)) {
      this.#exact.set(pattern, [...(this.#exact.get(pattern) ?? []), s]);
      return;
    }
    const existing = this.#wildcards.find((w) => w.pattern === pattern);
    if (existing !== undefined) existing.list = [...existing.list, s];
    else this.#wildcards = [...this.#wildcards, {pattern, matches: matcher(pattern), list: [s]}];
  }

  #remove(pattern: string, s: Subscription): void {
    if (!isWildcard(pattern)) {
      const list = this.#exact.get(pattern);
      if (list === undefined || !list.includes(s)) return;
      this.#countInterest(pattern, s, -1);
      const next = list.filter((x) => x !== s);
      if (next.length === 0) this.#exact.delete(pattern);
      else this.#exact.set(pattern, next);
      return;
    }
    const w = this.#wildcards.find((x) => x.pattern === pattern);
    if (w === undefined || !w.list.includes(s)) return;
    this.#countInterest(pattern, s, -1);
    w.list = w.list.filter((x) => x !== s);
    if (w.list.length === 0) this.#wildcards = this.#wildcards.filter((x) => x !== w);
  }

  #countInterest(pattern: string, s: Subscription, delta: 1 | -1): void {
    if (s.name.startsWith('switchboard:')) return;
    const before = this.#interest.get(pattern) ?? 0;
    const after = before + delta;
    if (after <= 0) this.#interest.delete(pattern);
    else this.#interest.set(pattern, after);
    if ((before === 0) !== (after <= 0) && this.#interestListeners.size > 0) {
      const patterns = new Set(this.#interest.keys());
      for (const listener of this.#interestListeners) listener(patterns);
    }
  }

  #removeEverywhere(s: Subscription): void {
    for (const [pattern, list] of this.#exact) if (list.includes(s)) this.#remove(pattern, s);
    for (const w of this.#wildcards) if (w.list.includes(s)) this.#remove(w.pattern, s);
  }

  #listen(root: EventTarget): void {
    let listeners = this.#domListeners.get(root);
    if (listeners === undefined) this.#domListeners.set(root, (listeners = new Map()));
    for (const type of this.registry.types()) {
      if (listeners.has(type)) continue;
      const listener = (event: Event): void => this.#fromDom(event);
      listeners.set(type, listener);
      root.addEventListener(type, listener);
    }
  }

  #fromDom(event: Event): void {
    const marked = event as Event & {[ROUTED]?: true};
    if (marked[ROUTED] || !('detail' in event)) return;
    marked[ROUTED] = true;
    const contract = this.registry.get(event.type);
    if (contract === undefined) return;
    const source = sourceOf(event);
    try {
      this.#publish(contract, (event as CustomEvent).detail, {source}, true, 'dom');
    } catch (error) {
      // Already reported through onReject; a DOM dispatcher has no one to throw to.
      if (!(error instanceof EventValidationError || error instanceof PermissionError || error instanceof CausationLoopError || error instanceof NoHandlerError)) {
        throw error;
      }
    }
  }
}

/**
 * The producer of a DOM event: the nearest custom element on its composed path (`mfe:<tag>`), which
 * is the micro frontend or its component whether its shadow root is open or closed; else the plain
 * element that dispatched it (`dom:<tag>`), else `dom`.
 */
function sourceOf(event: Event): string {
  let plain: string | undefined;
  for (const node of event.composedPath()) {
    const tag = (node as {localName?: unknown}).localName;
    if (typeof tag !== 'string') continue;
    if (tag.includes('-')) return `mfe:${tag}`;
    plain ??= tag;
  }
  return plain === undefined ? 'dom' : `dom:${plain}`;
}

/** A passage as inspection shows it: its subscribers by name, each with whether it threw. */
function toRecord(p: Passage): TraceRecord {
  const lists = p.exact === undefined ? (p.wild ?? []) : [p.exact, ...(p.wild ?? [])];
  const handlers = lists.flatMap((list) => list.map((s) => ({subscriber: s.name, ok: p.threw?.includes(s) !== true})));
  const {exact: _exact, wild: _wild, threw: _threw, ...rest} = p;
  return {...rest, handlers};
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && 'id' in value && 'type' in value && 'data' in value;
}

function typeOf(input: unknown): string {
  const type = (input as {type?: unknown} | null)?.type;
  return typeof type === 'string' ? type : 'unknown';
}
