import type {IncomingMessage, ServerResponse} from 'node:http';
import {Bus, matcher, type DeadLetter} from '@switchboard/bus';
import type {Contract, Envelope, EnvelopeOf} from '@switchboard/contracts';
import {readBody, sendJson, type EventService} from '@switchboard/hub';
import {DeadLetterRecorded, INVENTORY_TOPIC, ORDERS_TOPIC, PRODUCTS, SETTINGS_TOPIC, SettingsChanged, shopTopics} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';
import {inventoryService} from './inventory';
import {notificationsService} from './notifications';
import type {OrderState} from './order-state';
import {ordersService, type OrderStore} from './orders';
import {paymentsService} from './payments';
import {readModels, type ReadModels, type StockLevel} from './read-models';
import type {ServiceContext} from './services';
import {settingsService} from './settings';
import {shippingService} from './shipping';

export type {StockLevel} from './read-models';

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

/**
 * The demo shop: its services (orders, inventory, payments, shipping, notifications; one file
 * each) talk only through events on the server's bus, a choreography saga with compensation.
 * Order state is event sourced; `GET /api/orders` and `GET /api/inventory` are read models (CQRS)
 * updated from the same events. Every event the services publish lands in its topic (so pages see
 * it), and every event a topic receives from outside (a page, an HTTP producer) reaches the
 * services; ids make both directions idempotent.
 */
export class Shop {
  /** The server's bus: the services' only way to talk. */
  readonly bus: Bus;
  /** Share of payments that fail, 0 to 1; follows `settings.changed` (the `settings.change` command, `PUT /api/settings`). */
  paymentFailureRate: number;
  readonly #events: EventService;
  readonly #logger: Logger;
  readonly #stops: Array<() => void> = [];
  readonly #topicOf: Array<{topic: string; matches: (type: string) => boolean}>;
  readonly #store: OrderStore;
  readonly #views: ReadModels;

  constructor(options: ShopOptions) {
    this.#events = options.events;
    this.#logger = options.logger;
    this.paymentFailureRate = options.paymentFailureRate ?? 0.2;
    this.#topicOf = Object.entries(shopTopics).flatMap(([topic, patterns]) => patterns.map((p) => ({topic, matches: matcher(p)})));
    this.bus = new Bus({
      registry: options.events.registry,
      source: 'server',
      traceCapacity: 0,
      onDeadLetter: (letter) => this.#deadLetter(letter),
      onReject: (r) => this.#logger.warn({origin: r.origin, error: r.error}, 'event refused by the server bus'),
    });
    const retry = options.retry ?? {attempts: 3, backoffMs: 100};
    const ctx: ServiceContext = {
      bus: this.bus,
      events: this.#events,
      on: <C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void) =>
        void this.#stops.push(this.bus.subscribe(contract, handler, {name: `service:${service}`, retry, replay: false})),
      defer: (stop) => void this.#stops.push(stop),
    };
    const stock = new Map<string, number>(PRODUCTS.map((p) => [p.sku, options.initialStock?.[p.sku] ?? 20]));
    this.#bridgeTopics();
    this.#store = ordersService(ctx);
    inventoryService(ctx, stock);
    paymentsService(ctx, () => this.paymentFailureRate, options.random ?? Math.random);
    shippingService(ctx, options.shippingDelayMs ?? 800);
    notificationsService(ctx, options.lowStockAt ?? 5);
    settingsService(ctx, (rate) => (this.paymentFailureRate = rate));
    this.#views = readModels(ctx, stock);
  }

  /** An order rebuilt from its events, with them; undefined for an unknown id. */
  order(orderId: string): (OrderState & {events: readonly Envelope[]}) | undefined {
    return this.#store.order(orderId);
  }

  /** The orders read model, newest first. */
  orders(): OrderState[] {
    return this.#views.orders();
  }

  /** The inventory read model. */
  inventory(): StockLevel[] {
    return this.#views.inventory();
  }

  /**
   * The head offset of each topic: what a read model read in the same synchronous step reflects.
   *
   * Why that is consistent: with the in-process log, appending an event and updating the read
   * models from it happen in one synchronous step (a service's publish on the server bus reaches
   * the topic subscriber and the read models in one dispatch; an event from outside is appended,
   * then ingested into the bus at once). No request can run in between, so the data and the heads
   * read together in one handler describe the same point of every topic.
   */
  offsets(...topics: string[]): Record<string, string | null> {
    return Object.fromEntries(topics.map((t) => [t, this.#events.log.head(t)]));
  }

  /** Changes the share of payments that fail, by the same event the `settings.change` command publishes. */
  changeSettings(paymentFailureRate: number): void {
    this.bus.publish(SettingsChanged, {paymentFailureRate}, {source: 'service:settings'});
  }

  /**
   * HTTP routes of the read models and the demo's settings; pass to `server.addRoutes`. Each read
   * model answers with its data and `offsets`, the topics' offsets it reflects: a page loads it,
   * then follows those topics from exactly there (`projection()` in `@switchboard/signalr`).
   */
  readonly routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method === 'GET' && url.pathname === '/api/orders') {
      // Order state folds events of both topics (a reservation is an inventory event).
      return void sendJson(res, 200, {orders: this.orders(), offsets: this.offsets(ORDERS_TOPIC, INVENTORY_TOPIC)}), true;
    }
    const one = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one !== null) {
      const order = this.order(decodeURIComponent(one[1]!));
      sendJson(res, order === undefined ? 404 : 200, order ?? {error: 'no such order'});
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/api/inventory') {
      return void sendJson(res, 200, {products: this.inventory(), offsets: this.offsets(INVENTORY_TOPIC)}), true;
    }
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
        // A thin wrapper over the settings.changed event, which every page follows.
        this.changeSettings(rate);
      }
      sendJson(res, 200, {paymentFailureRate: this.paymentFailureRate, offsets: this.offsets(SETTINGS_TOPIC)});
      return true;
    }
    return false;
  };

  /** Stops the services' timers and subscriptions. */
  close(): void {
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
