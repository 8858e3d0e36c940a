import type {IncomingMessage, ServerResponse} from 'node:http';
import {randomUUID} from 'node:crypto';
import {Bus, matcher, type DeadLetter} from '@switchboard/bus';
import {DEPLOYS_TOPIC, type Contract, type Envelope, type EnvelopeOf} from '@switchboard/contracts';
import {grantsOf, matchesAny, readBody, sendJson, TopicLogUnavailableError, type Appender, type EventService, type Principal, type RouteContext, type SwitchboardServerOptions} from '@switchboard/hub';
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

/** Orders one `GET /api/orders` returns unless `limit` says otherwise. */
export const DEFAULT_ORDERS_PAGE = 50;
/** The largest `limit` of `GET /api/orders`. */
export const MAX_ORDERS_PAGE = 200;

/** Ids of events the topics gave the server bus, remembered so the bridge does not store them again. */
const REMEMBERED = 100_000;

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
  readonly #topicOf: Array<{topic: string; matches: (type: string) => boolean}>;
  readonly #store: OrderStore;
  readonly #views: ReadModels;
  readonly #canChangeSettings: (principal: Principal | undefined) => boolean;
  readonly #onStreams: ShopOnStreams | undefined;
  readonly #fromTopics = new Set<string>();
  readonly #runServices: boolean;
  /** With the services elsewhere: ids this shop appended itself (already on its bus), so its listener skips them. */
  readonly #ownAppends = new Set<string>();
  /** The projections services keep, for a rebuild from the topics. */
  readonly #projections: Array<{matches: (type: string) => boolean; handler: (e: Envelope) => void; reset: (() => void) | undefined}> = [];
  readonly #initialRate: number;
  /** Appends to topics run one after another, retried while the engine is down, so none is lost or reordered. */
  #storing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ShopOptions) {
    this.#events = options.events;
    this.#logger = options.logger;
    this.paymentFailureRate = this.#initialRate = options.paymentFailureRate ?? 0.2;
    this.#canChangeSettings = options.canChangeSettings ?? (() => true);
    this.#runServices = options.runServices ?? true;
    this.#topicOf = Object.entries(shopTopics).flatMap(([topic, patterns]) => patterns.map((p) => ({topic, matches: matcher(p)})));
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
            stored: () => this.#storing,
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
    this.#bridgeTopics();
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
  readonly routes = async (req: IncomingMessage, res: ServerResponse, url: URL, context?: RouteContext): Promise<boolean> => {
    if (req.method === 'GET' && url.pathname === '/api/orders') {
      const limitParam = url.searchParams.get('limit');
      const limit = limitParam === null ? DEFAULT_ORDERS_PAGE : Number(limitParam);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ORDERS_PAGE) {
        return void sendJson(res, 400, {error: `limit must be a whole number from 1 to ${MAX_ORDERS_PAGE}`}), true;
      }
      // Order state folds events of both topics (a reservation is an inventory event). Data and
      // offsets are taken in the same synchronous step.
      const {orders, next} = this.#views.ordersPage(url.searchParams.get('after'), limit);
      return void sendJson(res, 200, {orders, next, offsets: await this.offsets(ORDERS_TOPIC, INVENTORY_TOPIC)}), true;
    }
    const one = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one !== null) {
      const order = this.order(decodeURIComponent(one[1]!));
      sendJson(res, order === undefined ? 404 : 200, order ?? {error: 'no such order'});
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/api/inventory') {
      const products = this.inventory();
      return void sendJson(res, 200, {products, offsets: await this.offsets(INVENTORY_TOPIC)}), true;
    }
    if (url.pathname === '/api/settings') {
      if (req.method === 'PUT') {
        if (!this.#canChangeSettings(context?.principal)) return void sendJson(res, 403, {error: 'Forbidden: changing settings needs a token with the "admin" scope.'}), true;
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
        // On streams the setting follows the topic: answer once this node has it.
        await this.#onStreams?.caughtUp();
      }
      const rate = this.paymentFailureRate;
      sendJson(res, 200, {paymentFailureRate: rate, offsets: await this.offsets(SETTINGS_TOPIC)});
      return true;
    }
    return false;
  };

  /** On streams: rebuilds the read models from them and starts consuming. Nothing to do in memory. */
  async start(): Promise<void> {
    await this.#onStreams?.start();
  }

  /** Stops the services' timers and subscriptions. */
  close(): void {
    this.#closed = true;
    this.#onStreams?.close();
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** Hands an event a topic received to the server bus (remembering it came from there). */
  #ingest(topic: string, event: Envelope): void {
    this.#fromTopics.add(event.id);
    if (this.#fromTopics.size > REMEMBERED) this.#fromTopics.delete(this.#fromTopics.values().next().value!);
    this.bus.ingest(event, `topic:${topic}`);
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

  /** Appends a service's event to its topic, after those before it; retried while the engine is unreachable. */
  #storeInTopic(topic: string, event: Envelope): void {
    if (this.#onStreams === undefined) {
      if (!this.#runServices) {
        this.#ownAppends.add(event.id);
        if (this.#ownAppends.size > REMEMBERED) this.#ownAppends.delete(this.#ownAppends.values().next().value!);
      }
      // In memory the append is done before publish returns: nothing to wait for or retry.
      this.#events.append(topic, event).catch((error: unknown) => this.#logger.error({err: error, topic, id: event.id}, 'event not stored in its topic'));
      return;
    }
    const store = async (): Promise<void> => {
      for (;;) {
        try {
          await this.#events.append(topic, event);
          return;
        } catch (error) {
          // The engine reports a Redis that is unreachable or still loading its AOF as unavailable: try again.
          const transient = error instanceof TopicLogUnavailableError;
          if (!transient || this.#closed) {
            this.#logger.error({err: error, topic, id: event.id}, 'event not stored in its topic');
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    this.#storing = this.#storing.then(store);
  }

  /** Server bus ⇄ topics: what services publish is appended to its topic; what topics get from outside reaches the services. */
  #bridgeTopics(): void {
    this.#stops.push(
      this.bus.subscribe(
        '*',
        (e) => {
          const topic = this.#topicOf.find((t) => t.matches(e.type))?.topic;
          if (topic === undefined || this.bus.registry.get(e.type, e.version)?.kind === 'command') return;
          if (!this.#fromTopics.has(e.id)) this.#storeInTopic(topic, e);
        },
        {name: 'switchboard:topics'},
      ),
    );
    // In memory, what this process appends is all there is; on streams the log's feed (every node's
    // appends) is followed instead. The server's own events are on the bus already; of the rest, the
    // services trust only a granted producer's (the topic policies refuse the others' anyway).
    if (this.#onStreams === undefined) {
      this.#stops.push(
        this.#events.onAppended((topic, _offset, event, by) => {
          // With the services elsewhere, their events are appended by the server's RabbitMQ binding: this shop's projections need them.
          if (by.kind === 'server') {
            if (!this.#runServices && !this.#ownAppends.has(event.id)) this.#ingest(topic, event);
            return;
          }
          if (!isGrantedProducer(topic, by)) {
            this.#logger.warn({topic, type: event.type, id: event.id}, 'event from an ungranted client kept away from the services');
            return;
          }
          this.#ingest(topic, event);
        }),
      );
    }
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

/** A client whose token grants publishing on `topic`: the only outsider whose events the services act on. */
function isGrantedProducer(topic: string, by: Appender): boolean {
  return by.kind === 'client' && by.principal !== undefined && matchesAny(grantsOf(by.principal).publish, topic);
}
