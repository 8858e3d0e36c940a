import {requestBus, type Bus, type Handler, type PublishOptions, type RequestOptions, type SubscribeOptions} from '@switchboard/bus';
import type {Contract, EnvelopeOf, InputOf} from '@switchboard/contracts';
import type {ReactiveController, ReactiveControllerHost} from 'lit';

type Host = ReactiveControllerHost & HTMLElement;

/** Subscription options a controller passes on; `signal` and `name` are the controller's own. */
export type ControllerSubscribeOptions = Omit<SubscribeOptions, 'signal' | 'name'>;

interface Wanted {
  readonly target: Contract | string;
  readonly handler: Handler<never>;
  readonly options: ControllerSubscribeOptions;
}

/**
 * Connects a Lit element to the page bus for exactly as long as the element is connected.
 *
 * It asks for the bus with the Context Community Protocol when the host connects (the shell answers;
 * without a shell the page-wide bus is used), opens every subscription declared with
 * {@link BusController.subscribe}, and ends them all when the host disconnects, so an element that
 * is removed and re-added any number of times never leaks a listener.
 *
 * ```ts
 * class OrderTracker extends LitElement {
 *   #bus = new BusController(this);
 *   constructor() {
 *     super();
 *     this.#bus.subscribe(OrderPlaced, (e) => { this.orders = [...this.orders, e.data]; });
 *   }
 * }
 * ```
 */
export class BusController implements ReactiveController {
  readonly #host: Host;
  readonly #wanted: Wanted[] = [];
  #bus: Bus | undefined;
  #abort: AbortController | undefined;

  readonly #contracts: readonly Contract[];

  /**
   * @param options.contracts - contracts the element consumes by pattern (`order.*`): registered
   *   with whatever bus it finds, so events of those types are accepted even on a page without a shell.
   */
  constructor(host: Host, options: {contracts?: readonly Contract[]} = {}) {
    this.#host = host;
    this.#contracts = options.contracts ?? [];
    host.addController(this);
  }

  /** The bus while the host is connected; throws before the host first connects. */
  get bus(): Bus {
    if (this.#bus === undefined) throw new Error(`<${this.#host.localName}>: the bus is known once the element is connected`);
    return this.#bus;
  }

  /** The `source` of envelopes this element publishes: `mfe:<tag>`. */
  get source(): string {
    return `mfe:${this.#host.localName}`;
  }

  /**
   * Subscribes `handler` to `target` (a contract, a type, `order.*`, `*`) while the host is
   * connected, from now on if it already is. Each reconnect subscribes again, replay included.
   */
  subscribe<C extends Contract>(target: C, handler: Handler<EnvelopeOf<C>>, options?: ControllerSubscribeOptions): void;
  subscribe(target: string, handler: Handler, options?: ControllerSubscribeOptions): void;
  subscribe(target: Contract | string, handler: Handler<never>, options: ControllerSubscribeOptions = {}): void {
    const wanted = {target, handler, options};
    this.#wanted.push(wanted);
    if (this.#bus !== undefined && this.#abort !== undefined) this.#open(this.#bus, this.#abort.signal, wanted);
  }

  /** Publishes `data` as `contract` with this element as its source; throws when the data is invalid. */
  emit<C extends Contract>(contract: C, data: InputOf<C>, options: PublishOptions = {}): EnvelopeOf<C> {
    return this.bus.publish(contract, data, {source: this.source, ...options});
  }

  /**
   * Sends a request (or a command) with this element as its source; it is abandoned (rejects with
   * an `AbortError`) when the host disconnects, so an unmounted element leaves no request pending.
   */
  request<C extends Contract, R = unknown>(contract: C, data: InputOf<C>, options: Omit<RequestOptions, 'signal'> = {}): Promise<R> {
    const signal = this.#abort?.signal ?? AbortSignal.abort(new DOMException(`<${this.#host.localName}> is not connected`, 'AbortError'));
    return this.bus.request<C, R>(contract, data, {source: this.source, ...options, signal});
  }

  hostConnected(): void {
    const bus = (this.#bus = requestBus(this.#host));
    if (this.#contracts.length > 0) bus.register(...this.#contracts);
    const abort = (this.#abort = new AbortController());
    for (const wanted of this.#wanted) this.#open(bus, abort.signal, wanted);
  }

  hostDisconnected(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  #open(bus: Bus, signal: AbortSignal, {target, handler, options: extra}: Wanted): void {
    const options = {...extra, signal, name: this.source};
    if (typeof target === 'string') bus.subscribe(target, handler as Handler, options);
    else bus.subscribe(target, handler as Handler, options);
  }
}
