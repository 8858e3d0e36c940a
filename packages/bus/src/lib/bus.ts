import {
  ContractRegistry,
  createEnvelope,
  type Contract,
  type Envelope,
  type EnvelopeOf,
  type EnvelopeOptions,
  type InputOf,
  type ValidationIssue,
  type ValidationResult,
} from '@switchboard/contracts';
import {EventValidationError} from './errors';

/** A subscriber: called once per delivered envelope. A thrown error or rejected promise is isolated. */
export type Handler<E extends Envelope = Envelope> = (envelope: E) => void | Promise<void>;

/** Options of {@link Bus.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription when aborted. */
  readonly signal?: AbortSignal;
  /** Names the subscriber in dead letters, e.g. `mfe:order-tracker`. */
  readonly name?: string;
}

/** Options of {@link Bus.publish}: who produced the event and which flow it belongs to. */
export type PublishOptions = Partial<EnvelopeOptions>;

/** A delivery that failed: the subscriber threw or its promise rejected. Other subscribers still ran. */
export interface DeadLetter {
  readonly envelope: Envelope;
  readonly subscriber: string;
  readonly error: unknown;
  readonly attempt: number;
}

/** An input refused at a boundary (DOM ingress, server ingress, publish): delivered to no one. */
export interface Rejection {
  readonly input: unknown;
  readonly origin: string;
  readonly error: string;
  readonly issues: readonly ValidationIssue[];
}

/** Options of the {@link Bus} constructor. */
export interface BusOptions {
  /** The contracts the bus knows; contracts passed to publish and subscribe are added to it. */
  readonly registry?: ContractRegistry;
  /** The `source` of envelopes published without one; default `page`. */
  readonly source?: string;
  /** Called for every failed delivery; by default each is logged with `console.error`. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** Called for every refused input; by default each is logged with `console.warn`. */
  readonly onReject?: (rejection: Rejection) => void;
}

interface Subscription {
  readonly handler: Handler;
  readonly name: string;
  /** When set, only envelopes of this version are delivered. */
  readonly version: number | undefined;
}

/** Marks a DOM event already routed by a bus, so nested roots never route it twice (works across bundles). */
const ROUTED = Symbol.for('switchboard.routed');

/** The wildcard subscription key: every type. */
const ANY = '*';

/**
 * The page bus: typed publish/subscribe of event envelopes, validated against their contracts.
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
  readonly #onDeadLetter: (letter: DeadLetter) => void;
  readonly #onReject: (rejection: Rejection) => void;
  /** Copy-on-write lists: a dispatch iterates the array it started with, whatever handlers do. */
  readonly #subscriptions = new Map<string, readonly Subscription[]>();
  readonly #roots = new Set<EventTarget>();
  readonly #domListeners = new Map<EventTarget, Map<string, EventListener>>();

  constructor(options: BusOptions = {}) {
    this.registry = options.registry ?? new ContractRegistry();
    this.#source = options.source ?? 'page';
    this.#onDeadLetter =
      options.onDeadLetter ??
      ((l) => console.error(`switchboard: ${l.subscriber} failed on ${l.envelope.type} ${l.envelope.id}`, l.error));
    this.#onReject = options.onReject ?? ((r) => console.warn(`switchboard: rejected from ${r.origin}: ${r.error}`));
  }

  /** Adds contracts to the registry and starts routing their DOM events on attached roots. */
  register(...contracts: readonly Contract[]): this {
    this.registry.register(...contracts);
    for (const root of this.#roots) this.#listen(root);
    return this;
  }

  /**
   * Validates `data` against `contract`, wraps it in an envelope and delivers it to every matching
   * subscriber. Throws {@link EventValidationError}, delivering nothing, when the data is invalid.
   */
  publish<C extends Contract>(contract: C, data: InputOf<C>, options: PublishOptions = {}): EnvelopeOf<C> {
    this.register(contract);
    const parsed = this.registry.validateData(contract, data);
    if (!parsed.ok) {
      this.#onReject({input: data, origin: options.source ?? this.#source, error: parsed.error, issues: parsed.issues});
      throw new EventValidationError(parsed.error, parsed.issues);
    }
    const envelope = createEnvelope(contract, parsed.value as InputOf<C>, {...options, source: options.source ?? this.#source});
    this.#deliver(envelope);
    return envelope;
  }

  /**
   * Takes an envelope from outside the page's trust boundary (the hub, another tab), validates it and
   * delivers it. Never throws: an invalid input is reported through `onReject` and returned.
   */
  ingest(input: unknown, origin: string): ValidationResult<Envelope> {
    const result = this.registry.validate(input);
    if (result.ok) this.#deliver(result.value);
    else this.#onReject({input, origin, error: result.error, issues: result.issues});
    return result;
  }

  /**
   * Calls `handler` for every envelope of `target`: a contract (that version only, typed), a type
   * name, or `*` for everything. Returns a function that ends the subscription.
   */
  subscribe<C extends Contract>(target: C, handler: Handler<EnvelopeOf<C>>, options?: SubscribeOptions): () => void;
  subscribe(target: string, handler: Handler, options?: SubscribeOptions): () => void;
  subscribe(target: Contract | string, handler: Handler<never>, options: SubscribeOptions = {}): () => void {
    const {signal} = options;
    if (signal?.aborted) return () => {};
    if (typeof target !== 'string') this.register(target);
    const key = typeof target === 'string' ? target : target.type;
    const subscription: Subscription = {
      handler: handler as Handler,
      name: options.name ?? 'anonymous',
      version: typeof target === 'string' ? undefined : target.version,
    };
    this.#subscriptions.set(key, [...(this.#subscriptions.get(key) ?? []), subscription]);
    const unsubscribe = (): void => {
      signal?.removeEventListener('abort', unsubscribe);
      const list = this.#subscriptions.get(key);
      if (list === undefined) return;
      const next = list.filter((s) => s !== subscription);
      if (next.length === 0) this.#subscriptions.delete(key);
      else this.#subscriptions.set(key, next);
    };
    signal?.addEventListener('abort', unsubscribe, {once: true});
    return unsubscribe;
  }

  /** How many subscriptions are live, over all types: for leak checks and devtools. */
  get subscriberCount(): number {
    let n = 0;
    for (const list of this.#subscriptions.values()) n += list.length;
    return n;
  }

  /**
   * Routes DOM CustomEvents that reach `root` (a document, a shell element, any EventTarget) and whose
   * type is a registered contract: `detail` is the data, validated like a publish; `source` is
   * `mfe:<tag>` of the element that dispatched it. Returns a function that detaches.
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
    const origin = event.composedPath()[0];
    const tag = (origin as {localName?: unknown} | undefined)?.localName;
    const source = typeof tag === 'string' ? `mfe:${tag}` : 'dom';
    try {
      this.publish(contract, (event as CustomEvent).detail, {source});
    } catch (error) {
      // Already reported through onReject; a DOM dispatcher has no one to throw to.
      if (!(error instanceof EventValidationError)) throw error;
    }
  }

  #deliver(envelope: Envelope): void {
    const exact = this.#subscriptions.get(envelope.type);
    if (exact !== undefined) this.#run(exact, envelope);
    const any = this.#subscriptions.get(ANY);
    if (any !== undefined) this.#run(any, envelope);
  }

  #run(list: readonly Subscription[], envelope: Envelope): void {
    for (const s of list) {
      if (s.version !== undefined && s.version !== envelope.version) continue;
      try {
        const result = s.handler(envelope);
        if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (error: unknown) => this.#failed(envelope, s, error));
        }
      } catch (error) {
        this.#failed(envelope, s, error);
      }
    }
  }

  #failed(envelope: Envelope, subscription: Subscription, error: unknown): void {
    this.#onDeadLetter({envelope, subscriber: subscription.name, error, attempt: 1});
  }
}
