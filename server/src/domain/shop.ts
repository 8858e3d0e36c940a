import type {IncomingMessage, ServerResponse} from 'node:http';
import {Bus, matcher, type DeadLetter} from '@switchboard/bus';
import type {Contract, Envelope, EnvelopeOf} from '@switchboard/contracts';
import {
  DeadLetterRecorded,
  NotificationRaised,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderShipped,
  PaymentFailed,
  PaymentProcessed,
  PlaceOrder,
  PRODUCTS,
  ReservationFailed,
  Restock,
  Restocked,
  shopTopics,
  StockReleased,
  StockReserved,
} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';
import {HubError, readBody, sendJson, type EventService} from '@switchboard/hub';
import {applyOrderEvent, ORDER_STREAM_TYPES, orderState, type OrderState} from './order-state';

/** Options of {@link Shop}. */
export interface ShopOptions {
  readonly events: EventService;
  readonly logger: Logger;
  /** Share of payments that fail, 0 to 1; the failure path is easy to see with a high one. Default 0.2. */
  readonly paymentFailureRate?: number;
  /** Randomness for payments; `Math.random` by default (tests pass their own). */
  readonly random?: () => number;
  /** Wait before an order ships, so the steps are visible; default 800 ms. */
  readonly shippingDelayMs?: number;
  /** Units of each product on the shelf at start; default 20 each. */
  readonly initialStock?: Readonly<Record<string, number>>;
  /** At or below this level a low-stock warning is raised; default 5. */
  readonly lowStockAt?: number;
  /** Retries of a service before an event becomes a dead letter. */
  readonly retry?: {readonly attempts: number; readonly backoffMs: number};
}

/** One product's stock, as the inventory read model shows it. */
export interface StockLevel {
  readonly sku: string;
  readonly name: string;
  readonly level: number;
}

const PRICE = new Map<string, number>(PRODUCTS.map((p) => [p.sku, p.priceCents]));
const NAME = new Map<string, string>(PRODUCTS.map((p) => [p.sku, p.name]));

/**
 * The demo shop's services (orders, inventory, payments, shipping, notifications), talking only
 * through events on the server's bus: a choreography saga with compensation. Order state is event
 * sourced; `GET /api/orders` and `GET /api/inventory` are read models (CQRS) updated from the same
 * events. Every event the services publish lands in its topic (so pages see it), and every event a
 * topic receives from outside (a page, an HTTP producer) reaches the services; ids make both
 * directions idempotent.
 */
export class Shop {
  /** The server's bus: the services' only way to talk. */
  readonly bus: Bus;
  /** Share of payments that fail, 0 to 1; changeable at run time (`PUT /api/settings`). */
  paymentFailureRate: number;
  readonly #events: EventService;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #shippingDelayMs: number;
  readonly #lowStockAt: number;
  readonly #retry: {readonly attempts: number; readonly backoffMs: number};
  /** The event store: each order's events, in order (the write side of event sourcing). */
  readonly #streams = new Map<string, Envelope[]>();
  /** Inventory's write model: units on the shelf, and what each order holds. */
  readonly #stock = new Map<string, number>();
  readonly #reservations = new Map<string, {sku: string; quantity: number}>();
  /** Read models (CQRS), updated from events only. */
  readonly #ordersView = new Map<string, OrderState>();
  readonly #inventoryView = new Map<string, StockLevel>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stops: Array<() => void> = [];
  readonly #topicOf: Array<{topic: string; matches: (type: string) => boolean}>;

  constructor(options: ShopOptions) {
    this.#events = options.events;
    this.#logger = options.logger;
    this.paymentFailureRate = options.paymentFailureRate ?? 0.2;
    this.#random = options.random ?? Math.random;
    this.#shippingDelayMs = options.shippingDelayMs ?? 800;
    this.#lowStockAt = options.lowStockAt ?? 5;
    this.#retry = options.retry ?? {attempts: 3, backoffMs: 100};
    this.#topicOf = Object.entries(shopTopics).flatMap(([topic, patterns]) => patterns.map((p) => ({topic, matches: matcher(p)})));
    this.bus = new Bus({
      registry: options.events.registry,
      source: 'server',
      traceCapacity: 0,
      onDeadLetter: (letter) => this.#deadLetter(letter),
      onReject: (r) => this.#logger.warn({origin: r.origin, error: r.error}, 'event refused by the server bus'),
    });
    for (const product of PRODUCTS) {
      const level = options.initialStock?.[product.sku] ?? 20;
      this.#stock.set(product.sku, level);
      this.#inventoryView.set(product.sku, {sku: product.sku, name: product.name, level});
    }
    this.#bridgeTopics();
    this.#orders();
    this.#inventory();
    this.#payments();
    this.#shipping();
    this.#notifications();
    this.#readModels();
  }

  /** An order rebuilt from its events, with them; undefined for an unknown id. */
  order(orderId: string): (OrderState & {events: readonly Envelope[]}) | undefined {
    const events = this.#streams.get(orderId);
    const state = events === undefined ? undefined : orderState(events);
    return state === undefined ? undefined : {...state, events: events!};
  }

  /** The orders read model, newest first. */
  orders(): OrderState[] {
    return [...this.#ordersView.values()].reverse();
  }

  /** The inventory read model. */
  inventory(): StockLevel[] {
    return [...this.#inventoryView.values()];
  }

  /** HTTP routes of the read models and the demo's settings; pass to `server.addRoutes`. */
  readonly routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method === 'GET' && url.pathname === '/api/orders') return void sendJson(res, 200, {orders: this.orders()}), true;
    const one = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one !== null) {
      const order = this.order(decodeURIComponent(one[1]!));
      sendJson(res, order === undefined ? 404 : 200, order ?? {error: 'no such order'});
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/api/inventory') return void sendJson(res, 200, {products: this.inventory()}), true;
    if (url.pathname === '/api/settings') {
      if (req.method === 'PUT') {
        let body: unknown;
        try {
          body = JSON.parse((await readBody(req, 1024)).toString('utf8'));
        } catch {
          return void sendJson(res, 400, {error: 'body must be JSON'}), true;
        }
        const rate = (body as {paymentFailureRate?: unknown} | null)?.paymentFailureRate;
        if (typeof rate !== 'number' || rate < 0 || rate > 1) return void sendJson(res, 400, {error: 'paymentFailureRate must be a number from 0 to 1'}), true;
        this.paymentFailureRate = rate;
      }
      sendJson(res, 200, {paymentFailureRate: this.paymentFailureRate});
      return true;
    }
    return false;
  };

  /** Stops the services' timers and subscriptions. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** Server bus ⇄ topics: what services publish is appended to its topic; what topics get from outside reaches the services. */
  #bridgeTopics(): void {
    this.#stops.push(
      this.bus.subscribe(
        '*',
        (e) => {
          const topic = this.#topicOf.find((t) => t.matches(e.type))?.topic;
          if (topic !== undefined && this.bus.registry.get(e.type, e.version)?.kind !== 'command') this.#events.publish(topic, e);
        },
        {name: 'switchboard:topics'},
      ),
      this.#events.onAppended((topic, _offset, event) => void this.bus.ingest(event, `topic:${topic}`)),
    );
  }

  /** A service's subscription: retried, then dead-lettered. */
  #on<C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void): void {
    this.#stops.push(this.bus.subscribe(contract, handler, {name: `service:${service}`, retry: this.#retry, replay: false}));
  }

  #orders(): void {
    this.#stops.push(
      this.#events.handle(PlaceOrder, (command) => {
        if (!PRICE.has(command.data.sku)) throw new HubError(`Unknown product "${command.data.sku}".`);
        const orderId = `o-${command.id.slice(0, 8)}`;
        this.bus.publish(OrderPlaced, {orderId, sku: command.data.sku, quantity: command.data.quantity}, {source: 'service:orders', parent: command});
        return {orderId};
      }),
    );
    // The event store: every event of an order's stream, once (the bus dedupes redeliveries).
    this.#stops.push(
      this.bus.subscribe('*', (e) => {
        if (!ORDER_STREAM_TYPES.has(e.type)) return;
        const orderId = (e.data as {orderId: string}).orderId;
        const stream = this.#streams.get(orderId) ?? [];
        if (e.type !== 'order.placed' && stream.length === 0) return;
        this.#streams.set(orderId, [...stream, e]);
      }, {name: 'service:orders-store'}),
    );
    /** The order's status including the event being handled, whether or not the store has it yet. */
    const status = (orderId: string, handling: Envelope) => {
      const stream = this.#streams.get(orderId) ?? [];
      return orderState(stream.some((x) => x.id === handling.id) ? stream : [...stream, handling])?.status;
    };
    this.#on(ReservationFailed, 'orders', (e) => {
      if (status(e.data.orderId, e) !== 'placed') return;
      this.bus.publish(OrderCancelled, {orderId: e.data.orderId, reason: e.data.reason, compensated: []}, {source: 'service:orders'});
    });
    this.#on(PaymentProcessed, 'orders', (e) => {
      if (status(e.data.orderId, e) !== 'paid') return;
      this.bus.publish(OrderConfirmed, {orderId: e.data.orderId}, {source: 'service:orders'});
    });
    // Compensation finished (the stock is back): the order is cancelled, saying what was undone.
    this.#on(StockReleased, 'orders', (e) => {
      const state = status(e.data.orderId, e);
      if (state === undefined || state === 'cancelled' || state === 'shipped') return;
      const failure = (this.#streams.get(e.data.orderId) ?? []).find((x) => x.type === 'payment.failed');
      const reason = failure === undefined ? 'Cancelled' : `Payment failed: ${(failure.data as {reason: string}).reason}`;
      this.bus.publish(OrderCancelled, {orderId: e.data.orderId, reason, compensated: [`released ${e.data.quantity} × ${e.data.sku}`]}, {source: 'service:orders'});
    });
  }

  #inventory(): void {
    this.#on(OrderPlaced, 'inventory', (e) => {
      const {orderId, sku, quantity} = e.data;
      if (this.#reservations.has(orderId)) return; // already handled: a redelivery changes nothing
      const level = this.#stock.get(sku);
      if (level === undefined) throw new Error(`inventory has no product "${sku}"`);
      if (level < quantity) {
        this.bus.publish(ReservationFailed, {orderId, sku, quantity, reason: `Only ${level} × ${NAME.get(sku)} left`}, {source: 'service:inventory'});
        return;
      }
      this.#stock.set(sku, level - quantity);
      this.#reservations.set(orderId, {sku, quantity});
      this.bus.publish(StockReserved, {orderId, sku, quantity, level: level - quantity}, {source: 'service:inventory'});
    });
    this.#on(PaymentFailed, 'inventory', (e) => {
      const held = this.#reservations.get(e.data.orderId);
      if (held === undefined || held.quantity === 0) return;
      const level = (this.#stock.get(held.sku) ?? 0) + held.quantity;
      this.#stock.set(held.sku, level);
      this.#reservations.set(e.data.orderId, {sku: held.sku, quantity: 0});
      this.bus.publish(StockReleased, {orderId: e.data.orderId, sku: held.sku, quantity: held.quantity, level}, {source: 'service:inventory'});
    });
    this.#stops.push(
      this.#events.handle(Restock, (command) => {
        const level = this.#stock.get(command.data.sku);
        if (level === undefined) throw new HubError(`Unknown product "${command.data.sku}".`);
        const next = level + command.data.quantity;
        this.#stock.set(command.data.sku, next);
        this.bus.publish(Restocked, {sku: command.data.sku, quantity: command.data.quantity, level: next}, {source: 'service:inventory', parent: command});
        return {level: next};
      }),
    );
  }

  #payments(): void {
    const charged = new Set<string>();
    this.#on(StockReserved, 'payments', (e) => {
      if (charged.has(e.data.orderId)) return;
      charged.add(e.data.orderId);
      if (this.#random() < this.paymentFailureRate) {
        this.bus.publish(PaymentFailed, {orderId: e.data.orderId, reason: 'Card declined'}, {source: 'service:payments'});
      } else {
        this.bus.publish(PaymentProcessed, {orderId: e.data.orderId, amountCents: (PRICE.get(e.data.sku) ?? 0) * e.data.quantity}, {source: 'service:payments'});
      }
    });
  }

  #shipping(): void {
    const shipped = new Set<string>();
    this.#on(OrderConfirmed, 'shipping', (e) => {
      if (shipped.has(e.data.orderId)) return;
      shipped.add(e.data.orderId);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        // After a wait the handled event is no longer implicit: name it as the cause.
        this.bus.publish(OrderShipped, {orderId: e.data.orderId}, {source: 'service:shipping', parent: e});
      }, this.#shippingDelayMs);
      this.#timers.add(timer);
    });
  }

  #notifications(): void {
    const notify = (e: Envelope, level: 'info' | 'warning' | 'error', message: string, orderId?: string): void =>
      void this.bus.publish(NotificationRaised, {level, message, ...(orderId === undefined ? {} : {orderId})}, {source: 'service:notifications', parent: e});
    this.#on(OrderShipped, 'notifications', (e) => notify(e, 'info', `Order ${e.data.orderId} has shipped.`, e.data.orderId));
    this.#on(PaymentFailed, 'notifications', (e) => notify(e, 'error', `Payment for order ${e.data.orderId} failed: ${e.data.reason}.`, e.data.orderId));
    this.#on(StockReserved, 'notifications', (e) => {
      if (e.data.level <= this.#lowStockAt) notify(e, 'warning', `Low stock: ${e.data.level} × ${NAME.get(e.data.sku)} left.`);
    });
  }

  #readModels(): void {
    this.#stops.push(
      this.bus.subscribe('*', (e) => {
        if (ORDER_STREAM_TYPES.has(e.type)) {
          const orderId = (e.data as {orderId: string}).orderId;
          const next = applyOrderEvent(this.#ordersView.get(orderId), e);
          if (next !== undefined) this.#ordersView.set(orderId, next);
        }
        const level = (e.data as {level?: unknown}).level;
        const sku = (e.data as {sku?: unknown}).sku;
        if (typeof level === 'number' && typeof sku === 'string' && this.#inventoryView.has(sku)) {
          this.#inventoryView.set(sku, {sku, name: NAME.get(sku) ?? sku, level});
        }
      }, {name: 'service:read-models'}),
    );
  }

  /** A service gave up on an event: record it on the dead-letter topic, where the timeline shows it. */
  #deadLetter(letter: DeadLetter): void {
    const error = letter.error instanceof Error ? letter.error.message : String(letter.error);
    this.#logger.error({eventId: letter.envelope.id, type: letter.envelope.type, subscriber: letter.subscriber, error, correlationId: letter.envelope.correlationId}, 'dead letter');
    this.bus.publish(
      DeadLetterRecorded,
      {eventId: letter.envelope.id, eventType: letter.envelope.type, subscriber: letter.subscriber, error, attempt: letter.attempt},
      {source: 'service:dead-letters', parent: letter.envelope},
    );
  }
}
