import {
  ContractRegistry,
  type Contract,
  type Envelope,
  type EnvelopeOf,
  type InputOf,
  type Upcaster,
  type ValidationIssue,
  type ValidationResult,
} from '@switchboard/contracts';
import type {BusOptions, DeadLetter, Handler, PublishOptions, Rejection, RequestOptions, SubscribeOptions} from './bus-options.js';
import {Delivery} from './delivery.js';
import {DomIngress, sourceOf} from './dom-ingress.js';
import {
  AmbiguousResponderError,
  CausationLoopError,
  DuplicateHandlerError,
  EventValidationError,
  NoHandlerError,
  NoResponderError,
  PermissionError,
} from './errors.js';
import {IdMaker} from './ids.js';
import {isEnvelope, toRecord, typeOf, type Passage} from './passage.js';
import {matcher, type TypePattern} from './patterns.js';
import {PublishGate} from './permissions.js';
import {ReplayStore, retention, type Retention} from './replay.js';
import {awaitAnswer, Responders, type Responder} from './requests.js';
import {SeenIds} from './seen-ids.js';
import {SubscriptionTable, type Subscription} from './subscriptions.js';
import {TraceLog, type Origin, type Outcome, type TraceRecord} from './trace.js';
import {turnIso} from './turn-clock.js';

/** What {@link Bus.stats} reports. */
export interface BusStats {
  readonly subscriptions: number;
  readonly domListeners: number;
  readonly roots: number;
  readonly responders: number;
  readonly pendingRequests: number;
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
 * This class checks and admits envelopes (validation, permissions, causation depth, dedupe) and
 * holds the parts: {@link SubscriptionTable} (who wants what), {@link Delivery} (publish order,
 * handlers, retries, replay, trace), {@link Responders} (requests and commands), {@link DomIngress}.
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
  readonly #gate: PublishGate;
  readonly #maxDepth: number;
  readonly #onDeadLetter: (letter: DeadLetter) => void;
  readonly #onReject: (rejection: Rejection) => void;
  readonly #subscriptions = new SubscriptionTable();
  readonly #responders = new Responders();
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
  readonly #deadLetters: DeadLetter[] = [];
  readonly #deadLetterCapacity: number;
  readonly #dom = new DomIngress(
    () => this.registry.types(),
    (event) => this.#fromDom(event),
  );
  readonly #delivery: Delivery;
  /** Requests (and commands sent) waiting for their answer. */
  readonly #pending = {count: 0};

  constructor(options: BusOptions = {}) {
    this.registry = options.registry ?? new ContractRegistry();
    this.#source = options.source ?? 'page';
    this.#validateTyped = (options.validation ?? 'always') === 'always';
    this.#gate = new PublishGate(options.permissions);
    this.#maxDepth = options.maxCausationDepth ?? 32;
    const window = Math.max(1, options.dedupeWindow ?? 1000);
    this.#seen = new SeenIds(window);
    this.#ids = new IdMaker(window);
    const capacity = options.traceCapacity ?? 500;
    this.#trace = capacity > 0 ? new TraceLog(capacity) : undefined;
    this.#deadLetterCapacity = options.deadLetterCapacity ?? 100;
    this.#onDeadLetter =
      options.onDeadLetter ??
      ((l) => console.error(`switchboard: ${l.subscriber} failed on ${l.envelope.type} ${l.envelope.id} (attempt ${l.attempt})`, l.error));
    this.#onReject = options.onReject ?? ((r) => console.warn(`switchboard: rejected from ${r.origin}: ${r.error}`));
    this.#delivery = new Delivery({
      registry: this.registry,
      subscriptions: this.#subscriptions,
      replay: this.#replay,
      retention: this.#retention,
      trace: this.#trace,
      traceTimings: options.traceTimings ?? false,
      deadLetter: (letter) => this.#deadLetter(letter),
    });
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
    this.#dom.refresh();
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
      this.#subscriptions.remove(pattern, subscription);
    };
    signal?.addEventListener('abort', unsubscribe, {once: true});
    if (options.replay !== false) {
      const matches = matcher(pattern);
      const retained = this.#replay.retained(matches, (type) => this.#retention.get(type)?.ttlMs ?? 0);
      for (const envelope of retained) {
        if (!subscription.active) break;
        this.#delivery.offer(subscription, envelope, undefined, unsubscribe);
      }
    }
    if (subscription.active) this.#subscriptions.add(pattern, subscription);
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
    if (this.#responders.of(command.type).length > 0) {
      throw new DuplicateHandlerError(`"${command.type}" already has a handler: a command has exactly one`);
    }
    return this.respond(command, handler);
  }

  /** Registers a responder to requests of `contract`. Returns a function that unregisters it. */
  respond<C extends Contract>(contract: C, responder: (envelope: EnvelopeOf<C>) => unknown): () => void {
    this.register(contract);
    return this.#responders.add(contract.type, responder as Responder);
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
    const responders = this.#responders.of(contract.type);
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
    return awaitAnswer<R>(() => this.#delivery.within(envelope, () => responders[0]!(envelope)), contract.type, timeoutMs, signal, this.#pending);
  }

  /** How many subscriptions are live, over all types: for leak checks and devtools. */
  get subscriberCount(): number {
    return this.#subscriptions.count;
  }

  /**
   * What the bus holds now, for leak checks and devtools: live subscriptions, DOM listeners over
   * every attached root, attached roots, request responders and requests waiting for an answer.
   * After an app is unmounted, every count is back where it was before it was mounted.
   */
  stats(): BusStats {
    return {
      subscriptions: this.#subscriptions.count,
      domListeners: this.#dom.listenerCount,
      roots: this.#dom.rootCount,
      responders: this.#responders.count,
      pendingRequests: this.#pending.count,
    };
  }

  /**
   * Calls `listener` with the set of patterns the page's subscribers want, now and whenever it
   * changes (a first subscriber of a pattern, a last one leaving). The kit's own subscriptions,
   * named `switchboard:…`, do not count. The hub bridge follows server topics by it.
   */
  onInterest(listener: (patterns: ReadonlySet<string>) => void): () => void {
    return this.#subscriptions.onInterest(listener);
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
    return this.#dom.attach(root);
  }

  #learn(contract: Contract): void {
    const kept = retention(contract.replay);
    if (kept !== undefined) this.#retention.set(contract.type, kept);
  }

  #publish(contract: Contract, data: unknown, options: PublishOptions, validate: boolean, origin: Origin, isRequest = false): Envelope {
    if (!this.#known.has(contract)) {
      this.register(contract);
      this.#known.add(contract);
    }
    const source = options.source ?? this.#source;
    if (!this.#gate.allows(source, contract.type)) {
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
    const parent = options.parent ?? this.#delivery.current;
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
      const handlers = this.#responders.of(contract.type);
      if (handlers.length === 0) {
        this.#refuse(envelope, origin, 'unhandled', `no handler for command "${contract.type}"`, [], contract.type, source);
        throw new NoHandlerError(`no handler for command "${contract.type}"`);
      }
      this.#deliver(envelope, origin, depth, !minted);
      void Promise.resolve()
        .then(() => this.#delivery.within(envelope, () => handlers[0]!(envelope)))
        .catch((error: unknown) => this.#deadLetter({envelope, subscriber: `handler of ${contract.type}`, error, attempt: 1}));
      return envelope;
    }
    this.#deliver(envelope, origin, depth, !minted);
    return envelope;
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
    this.#delivery.deliver(envelope, origin);
  }

  #deadLetter(letter: DeadLetter): void {
    this.#deadLetters.push(letter);
    if (this.#deadLetters.length > this.#deadLetterCapacity) this.#deadLetters.shift();
    this.#onDeadLetter(letter);
  }

  /** A DOM CustomEvent of a registered type, routed once: its detail is published as data, always validated. */
  #fromDom(event: CustomEvent): void {
    const contract = this.registry.get(event.type);
    if (contract === undefined) return;
    const source = sourceOf(event);
    try {
      this.#publish(contract, event.detail, {source}, true, 'dom');
    } catch (error) {
      // Already reported through onReject; a DOM dispatcher has no one to throw to.
      if (!(error instanceof EventValidationError || error instanceof PermissionError || error instanceof CausationLoopError || error instanceof NoHandlerError)) {
        throw error;
      }
    }
  }
}
