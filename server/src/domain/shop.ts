import {randomUUID} from 'node:crypto';
import {Bus, matcher, type DeadLetter} from '@switchboard/bus';
import {DEPLOYS_TOPIC, type Contract, type Envelope, type EnvelopeOf} from '@switchboard/contracts';
import type {EventService, Principal, SwitchboardServerOptions} from '@switchboard/hub';
import {DeadLetterRecorded, INVENTORY_TOPIC, NOTIFICATIONS_TOPIC, ORDERS_TOPIC, PRODUCTS, SETTINGS_TOPIC, SettingsChanged, shopTopics} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';
import {inventoryService} from './inventory';
import {notificationsService} from './notifications';
import type {OrderState} from './order-state';
import {ordersService, type OrderStore} from './orders';
import {paymentsService} from './payments';
import {readModels, type ReadModels, type StockLevel} from './read-models';
import {SERVICE_COMMANDS, type ServiceContext} from './services';
import {settingsService} from './settings';
import {shippingService} from './shipping';
import {shopRoutes} from './shop-routes';
import {REMEMBERED, ShopTopicBridge} from './shop-topics';
import {ShopOnStreams, type ShopStreams} from './shop-streams';

export type {StockLevel} from './read-models';

/**
 * Who may do what on the shop's topics; pass to the `SwitchboardServer`. Anyone may subscribe.
 * Everything the services say is server-owned: pages place orders and restock through the
 * `order.place` and `inventory.restock` commands, never by publishing events. Only a granted
 * producer (a token with `publish:orders`, e.g. another sales channel) may publish `order.placed`;
 * `orders:user-<sub>` is readable only by the user `<sub>`.
 */
export const shopPolicies = {
  serverOwned: ['payment.*', 'inventory.*', 'notification.*', 'deadletter.*', 'order.confirmed', 'order.shipped', 'order.cancelled', 'settings.changed', 'app.*'],
  topics: {
    [ORDERS_TOPIC]: {publishers: 'granted', publish: ['order.placed']},
    // A user's own orders: only the user the topic names may read it; only the server writes it.
    [`${ORDERS_TOPIC}:user-{sub}`]: {subscribe: 'authenticated', publish: []},
    [INVENTORY_TOPIC]: {publish: []},
    [NOTIFICATIONS_TOPIC]: {publish: []},
    [SETTINGS_TOPIC]: {publish: []},
    // Deploys are announced by the server's deploy registry only.
    [DEPLOYS_TOPIC]: {publish: []},
  },
  // Other topics: granted producers only, and never the server-owned types above.
  defaultTopic: {publishers: 'granted'},
} as const satisfies Pick<SwitchboardServerOptions, 'serverOwned' | 'topics' | 'defaultTopic'>;

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
  /**
   * Orders the demo keeps (event store and read model); past it the oldest finished (shipped or
   * cancelled) orders are dropped. Default 1,000.
   */
  readonly maxOrders?: number;
  /** At or below this level a low-stock warning is raised; default 5. */
  readonly lowStockAt?: number;
  /** Retries of a service before an event becomes a dead letter. */
  readonly retry?: {readonly attempts: number; readonly backoffMs: number};
  /** Who may change the settings (`PUT /api/settings`); anyone by default (the open demo). */
  readonly canChangeSettings?: (principal: Principal | undefined) => boolean;
  /**
   * Run across nodes on Redis: services consume through consumer groups (each event handled once
   * among all nodes) and the read models are rebuilt from the streams; call {@link Shop.start}.
   */
  readonly streams?: ShopStreams;
  /**
   * Whether this process runs the services' handlers (default true). False: they consume elsewhere
   * (on RabbitMQ, `RabbitServices`, in this process or others); this shop keeps the commands, the
   * read models and the routes, and what the services append to the topics reaches its projections.
   * The commands a service decides on its own state (`inventory.restock`, {@link SERVICE_COMMANDS})
   * are left to the services too: route them to it (the RabbitMQ bridge's `commands`).
   */
  readonly runServices?: boolean;
}



/**
 * The demo shop: its services (orders, inventory, payments, shipping, notifications; one file
 * each) talk only through events on the server's bus, a choreography saga with compensation.
 * Order state is event sourced; `GET /api/orders` and `GET /api/inventory` are read models (CQRS)
 * updated from the same events. Every event the services publish lands in its topic (so pages see
 * it); of what a topic receives from outside, only a granted producer's events reach the services
 * (declare {@link shopPolicies} on the server so nothing else is even appended). Ids make both
 * directions idempotent.
 */
export class Shop {
  /** The server's bus: the services' only way to talk. */
  readonly bus: Bus;
  /** Share of payments that fail, 0 to 1; follows `settings.changed` (the `settings.change` command, `PUT /api/settings`). */
  paymentFailureRate: number;
  readonly #events: EventService;
  readonly #logger: Logger;
  readonly #stops: Array<() => void> = [];
  readonly #store: OrderStore;
  readonly #views: ReadModels;
  readonly #canChangeSettings: (principal: Principal | undefined) => boolean;
  readonly #onStreams: ShopOnStreams | undefined;
  readonly #runServices: boolean;
  readonly #topics: ShopTopicBridge;
  /** The projections services keep, for a rebuild from the topics. */
  readonly #projections: Array<{matches: (type: string) => boolean; handler: (e: Envelope) => void; reset: (() => void) | undefined}> = [];
  readonly #initialRate: number;

  constructor(options: ShopOptions) {
    this.#events = options.events;
    this.#logger = options.logger;
    this.paymentFailureRate = this.#initialRate = options.paymentFailureRate ?? 0.2;
    this.#canChangeSettings = options.canChangeSettings ?? (() => true);
    this.#runServices = options.runServices ?? true;
    this.bus = new Bus({
      registry: options.events.registry,
      source: 'server',
      traceCapacity: 0,
      // On streams a service's publishes when it handles an event again are dropped here by id: remember enough.
      ...(options.streams === undefined ? {} : {dedupeWindow: REMEMBERED}),
      onDeadLetter: (letter) => this.#deadLetter(letter),
      onReject: (r) => this.#logger.warn({origin: r.origin, error: r.error}, 'event refused by the server bus'),
    });
    const retry = options.retry ?? {attempts: 3, backoffMs: 100};
    const onStreams = (this.#onStreams =
      options.streams === undefined
        ? undefined
        : new ShopOnStreams({
            streams: options.streams,
            bus: this.bus,
            topics: Object.keys(shopTopics).filter((t) => t !== DEPLOYS_TOPIC),
            logger: this.#logger,
            retry,
            deadLetter: (letter) => this.#deadLetter(letter),
            apply: (topic, event) => this.#project(topic, event),
            rebuild: (events) => this.#rebuild(events),
            stored: () => this.#topics.stored,
          }));
    const scopedEvents = onStreams?.scopedEvents(this.#events) ?? this.#events;
    const ctx: ServiceContext = {
      bus: onStreams?.scopedBus() ?? this.bus,
      events: this.#runServices ? scopedEvents : hubOnly(scopedEvents),
      on: <C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void | Promise<void>) => {
        if (!this.#runServices) return;
        if (onStreams !== undefined) onStreams.on(service, contract, handler as (e: Envelope) => void | Promise<void>);
        else this.#stops.push(this.bus.subscribe(contract, handler, {name: `service:${service}`, retry, replay: false}));
      },
      defer: (stop) => void this.#stops.push(stop),
      newId: (purpose) => onStreams?.newId(purpose) ?? randomUUID(),
      project: (target, name, handler, reset) => {
        this.#projections.push({matches: matcher(target), handler, reset});
        // On streams projections follow the topics only (every node the same events, as stored);
        // in memory the bus delivers each event as it is appended.
        if (onStreams === undefined) this.#stops.push(this.bus.subscribe(target, handler, {name, replay: false}));
      },
    };
    const stock = new Map<string, number>(PRODUCTS.map((p) => [p.sku, options.initialStock?.[p.sku] ?? 20]));
    this.#topics = new ShopTopicBridge({bus: this.bus, events: this.#events, logger: this.#logger, onStreams: onStreams !== undefined, runServices: this.#runServices});
    this.#stops.push(this.#topics.start());
    this.#store = ordersService(ctx, options.maxOrders);
    inventoryService(ctx, stock);
    paymentsService(ctx, () => this.paymentFailureRate, options.random ?? Math.random);
    shippingService(ctx, options.shippingDelayMs ?? 800);
    notificationsService(ctx, options.lowStockAt ?? 5);
    settingsService(ctx, (rate) => (this.paymentFailureRate = rate), (principal) => this.#canChangeSettings(principal), () => (this.paymentFailureRate = this.#initialRate));
    this.#views = readModels(ctx, stock, options.maxOrders);
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
   * models from it happen in one synchronous step, and each head is taken synchronously when
   * `head()` is called (the async wrapper only defers the answer). So the data and the heads read
   * together before any await describe the same point of every topic. On Redis the read models
   * follow the topics only (a node's own events too), and the offsets are those of the last event
   * they applied from each topic, moved in the same synchronous step: the same point again.
   */
  offsets(...topics: string[]): Promise<Record<string, string | null>> {
    if (this.#onStreams !== undefined) return Promise.resolve(this.#onStreams.offsets(topics));
    const heads = topics.map((t) => this.#events.log.head(t));
    return Promise.all(heads).then((values) => Object.fromEntries(topics.map((t, i) => [t, values[i] ?? null])));
  }

  /** Changes the share of payments that fail, by the same event the `settings.change` command publishes. */
  changeSettings(paymentFailureRate: number): void {
    this.bus.publish(SettingsChanged, {paymentFailureRate}, {source: 'service:settings'});
  }

  /**
   * HTTP routes of the read models and the demo's settings; pass to `server.addRoutes`. Each read
   * model answers with its data and `offsets`, the topics' offsets it reflects: a page loads it,
   * then follows the topics from exactly there (`projection()` in `@switchboard/signalr`).
   */
  readonly routes = shopRoutes({
    ordersPage: (after, limit) => this.#views.ordersPage(after, limit),
    order: (orderId) => this.order(orderId),
    inventory: () => this.inventory(),
    offsets: (...topics) => this.offsets(...topics),
    canChangeSettings: (principal) => this.#canChangeSettings(principal),
    changeSettings: (rate) => this.changeSettings(rate),
    caughtUp: async () => this.#onStreams?.caughtUp(),
    paymentFailureRate: () => this.paymentFailureRate,
  });

  /** On streams: rebuilds the read models from them and starts consuming. Nothing to do in memory. */
  async start(): Promise<void> {
    await this.#onStreams?.start();
  }

  /** Stops the services' timers and subscriptions. */
  close(): void {
    this.#topics.close();
    this.#onStreams?.close();
    for (const stop of this.#stops.splice(0)) stop();
  }

  /**
   * On streams: gives the projections an event of a topic, in the topics' order. Only what is
   * stored counts: an event this node published but lost to a redelivery elsewhere (same id, the
   * other node's version stored) never shows here, so all nodes derive the same state.
   */
  #project(topic: string, event: Envelope): void {
    const valid = this.bus.registry.validate(event);
    if (!valid.ok) {
      this.#logger.warn({topic, id: event.id, error: valid.error}, 'an event in a topic breaks its contract; the read models skip it');
      return;
    }
    for (const p of this.#projections) if (p.matches(valid.value.type)) p.handler(valid.value);
  }

  /**
   * The topics were lost or cut (Redis lost its data): every projection forgets what it derived and
   * is given what the topics still hold, as a node starting now would be.
   */
  #rebuild(events: ReadonlyArray<{topic: string; event: Envelope}>): void {
    for (const p of this.#projections) p.reset?.();
    for (const {topic, event} of events) this.#project(topic, event);
  }

  /** A service gave up on an event: record it on the dead-letter topic, where the timeline shows it. */
  #deadLetter(letter: DeadLetter): void {
    // Bounded like every string of the contracts: a long exception message must not make the dead letter itself invalid.
    const error = (letter.error instanceof Error ? letter.error.message : String(letter.error)).slice(0, 500);
    this.#logger.error({eventId: letter.envelope.id, type: letter.envelope.type, subscriber: letter.subscriber, error, correlationId: letter.envelope.correlationId}, 'dead letter');
    this.bus.publish(
      DeadLetterRecorded,
      {eventId: letter.envelope.id, eventType: letter.envelope.type, subscriber: letter.subscriber, error, attempt: letter.attempt},
      {source: 'service:dead-letters', parent: letter.envelope},
    );
  }
}

/** `events` that leaves the commands of {@link SERVICE_COMMANDS} to the services (they are routed to them over RabbitMQ). */
function hubOnly(events: Pick<EventService, 'handle'>): Pick<EventService, 'handle'> {
  return {handle: (contract, handler) => (SERVICE_COMMANDS.has(contract.type) ? () => {} : events.handle(contract, handler))};
}
