import {randomUUID} from 'node:crypto';
import {Bus, matcher} from '@switchboard/bus';
import type {Contract, Envelope, EnvelopeOf} from '@switchboard/contracts';
import {RabbitConnection} from '@switchboard/rabbitmq';
import {DeadLetterRecorded, shopRegistry} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';
import {uuidOf} from '../derived-id';
import {withMethod} from '../with-method';
import type {ServiceContext} from '../services';
import {Outbox} from './outbox';
import {ProjectionFeed} from './projection-feed';
import {ServiceQueue, type QueueHandler} from './service-queue';
import {registerShopServices, type ShopServiceSettings} from './shop-services';
import {declareShopTopology, EXCLUSIVE_SERVICES} from './topology';

/** Options of {@link RabbitServices}. */
export interface RabbitServicesOptions extends ShopServiceSettings {
  /** The broker, e.g. `amqp://guest:guest@localhost:5672`. */
  readonly url: string;
  readonly logger: Logger;
  /** Shown in the broker's connection list; default `switchboard-shop-services`. */
  readonly name?: string;
  /** Attempts of a failing handler before its event is dead-lettered (with the reason), and the wait between them. Default 3 × 100 ms. */
  readonly retry?: {readonly attempts: number; readonly backoffMs: number};
  /** Unacknowledged deliveries per service queue; default 20. */
  readonly prefetch?: number;
  /** Longest wait for the projections to include an event before it is handled anyway; default 10 s. */
  readonly catchUpMs?: number;
  /** Larger messages in a service's queue are dead-lettered unread; default 64 KB. */
  readonly maxMessageBytes?: number;
}

/** Defaults of {@link RabbitServicesOptions}. */
export const RABBIT_SERVICES_DEFAULTS = {prefetch: 20, catchUpMs: 10_000, maxMessageBytes: 64 * 1024, retry: {attempts: 3, backoffMs: 100}} as const;

/** Services that wait inside their handler (shipping): their deliveries are handled side by side. */
const CONCURRENT: ReadonlySet<string> = new Set(['shipping']);

/**
 * The shop's services (orders, inventory, payments, shipping, notifications) as consumers of
 * durable RabbitMQ queues: the same handlers as in the hub process, given a {@link ServiceContext}
 * whose `on` consumes the service's queue and whose bus publishes to `shop.services` with confirms.
 * Any number of processes may run it; the broker spreads each queue's events over them (inventory:
 * one at a time, single active consumer). Commands stay with the hub.
 *
 * ```ts
 * const services = new RabbitServices({url: 'amqp://guest:guest@localhost:5672', logger});
 * await services.start(); // rejects with a clear message when the broker cannot be reached
 * ```
 */
export class RabbitServices {
  readonly #connection: RabbitConnection;
  readonly #feed: ProjectionFeed;
  readonly #outbox: Outbox;
  readonly #queues = new Map<string, ServiceQueue>();
  readonly #stops: Array<() => void> = [];
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #retry: {readonly attempts: number; readonly backoffMs: number};
  /** The handling under way: what its handlers publish gets ids `hash(scope, n)` and the handled event as parent. */
  #scope: {id: string; n: number; parent: Envelope; published: string[]} | undefined;
  /** Ids published outside a scope (after a wait), by the event they name as parent: its handling waits for their confirms too. */
  readonly #late = new Map<string, string[]>();
  readonly #scoped: Bus;

  constructor(options: RabbitServicesOptions) {
    const registry = shopRegistry();
    this.#logger = options.logger;
    this.#retry = options.retry ?? RABBIT_SERVICES_DEFAULTS.retry;
    this.#connection = new RabbitConnection({url: options.url, logger: options.logger, name: options.name ?? 'switchboard-shop-services'});
    this.#feed = new ProjectionFeed(registry, this.#connection, options.logger);
    this.#outbox = new Outbox(this.#connection, options.logger);
    this.#bus = new Bus({registry, source: 'server', traceCapacity: 0, onReject: (r) => options.logger.warn({error: r.error}, 'a service published an invalid event')});
    const queueOptions = {
      prefetch: options.prefetch ?? RABBIT_SERVICES_DEFAULTS.prefetch,
      catchUpMs: options.catchUpMs ?? RABBIT_SERVICES_DEFAULTS.catchUpMs,
      maxMessageBytes: options.maxMessageBytes ?? RABBIT_SERVICES_DEFAULTS.maxMessageBytes,
    };
    const host = {
      registry,
      feed: this.#feed,
      connection: this.#connection,
      logger: options.logger,
      run: (service: string, event: Envelope, handlers: readonly QueueHandler[]) => this.#run(service, event, handlers),
      confirmed: (ids: readonly string[]) => this.#outbox.confirmed(ids),
      drained: () => this.#outbox.drained(),
    };
    this.#scoped = this.#scopedBus();
    const ctx: ServiceContext = {
      bus: this.#scoped,
      // Commands (order.place, inventory.restock, settings.change) are answered by the hub.
      events: {handle: () => () => {}},
      on: <C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void | Promise<void>) => {
        let queue = this.#queues.get(service);
        if (queue === undefined) {
          queue = new ServiceQueue(service, host, {...queueOptions, concurrent: CONCURRENT.has(service), exclusive: EXCLUSIVE_SERVICES.has(service)});
          this.#queues.set(service, queue);
        }
        queue.register(contract.type, handler as QueueHandler);
      },
      defer: (stop) => void this.#stops.push(stop),
      project: (target, _name, apply, reset) => this.#feed.add({matches: matcher(target), apply, reset}),
      newId: (purpose) => (this.#scope === undefined ? randomUUID() : uuidOf(`${this.#scope.id}:id:${purpose}`)),
    };
    registerShopServices(ctx, options);
    const types = new Map([...this.#queues].map(([service, queue]) => [service, queue.types] as const));
    this.#connection.use({
      opened: async (model) => {
        const channel = await model.createChannel();
        await declareShopTopology(channel, types);
        await channel.close();
      },
      closed: () => {},
    });
    this.#connection.use(this.#outbox);
    this.#connection.use(this.#feed);
    for (const queue of this.#queues.values()) this.#connection.use(queue);
  }

  /** Deliveries each service handled (acknowledged) in this process. */
  get handled(): Record<string, number> {
    return Object.fromEntries([...this.#queues].map(([service, queue]) => [service, queue.handled]));
  }

  /** Whether the broker connection is open. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Connects, declares the shop's queues and starts consuming; rejects with a message naming the broker and the cause. */
  start(): Promise<void> {
    return this.#connection.start();
  }

  /** Stops: unacknowledged deliveries go back to their queues, for another process. */
  async close(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await this.#connection.close();
  }

  /** The bus the services publish on: derived ids, the handled event as parent, and every event to the outbox. */
  #scopedBus(): Bus {
    const bus = this.#bus;
    const publish = (contract: Contract, data: unknown, given: {id?: string; parent?: Envelope; source?: string} = {}) => {
      const scope = this.#scope;
      const parent = given.parent ?? scope?.parent;
      const options = parent === undefined ? given : {...given, parent};
      let id = options.id;
      // Derived from the handling (or, after a wait, from the named parent), so a redelivery publishes the same ids.
      if (id === undefined && scope !== undefined) id = uuidOf(`${scope.id}:${scope.n++}`);
      else if (id === undefined && parent !== undefined) id = uuidOf(`${options.source ?? ''}:${parent.id}:${contract.type}`);
      const envelope = bus.publish(contract, data as never, id === undefined ? options : {...options, id});
      if (scope !== undefined) scope.published.push(envelope.id);
      else if (parent !== undefined) {
        this.#late.set(parent.id, [...(this.#late.get(parent.id) ?? []), envelope.id]);
        // Bounded: a publish whose parent is not being handled here is never collected.
        if (this.#late.size > 10_000) this.#late.delete(this.#late.keys().next().value!);
      }
      void this.#outbox.publish(envelope);
      return envelope;
    };
    return withMethod(bus, 'publish', publish as never);
  }

  /** Runs a service's handlers with retries; the last failure publishes a dead letter. Resolves with the ids published. */
  async #run(service: string, event: Envelope, handlers: readonly QueueHandler[]): Promise<{ids: readonly string[]; failure?: string}> {
    const published: string[] = [];
    let failure: string | undefined;
    for (const [index, handler] of handlers.entries()) {
      for (let attempt = 1; ; attempt++) {
        // The scope holds while the handler runs synchronously; what it publishes after a wait names its parent.
        this.#scope = {id: `${service}:${index}:${event.id}`, n: 0, parent: event, published};
        try {
          const result = handler(event);
          this.#scope = undefined;
          await result;
          break;
        } catch (error) {
          this.#scope = undefined;
          if (attempt >= this.#retry.attempts) {
            failure = (error instanceof Error ? error.message : String(error)).slice(0, 500);
            this.#logger.error({service, id: event.id, type: event.type, error: failure}, 'dead letter');
            this.#scope = {id: `${service}:${index}:${event.id}:dead`, n: 0, parent: event, published};
            try {
              this.#scoped.publish(DeadLetterRecorded, {eventId: event.id, eventType: event.type, subscriber: `service:${service}`, error: failure, attempt}, {source: 'service:dead-letters'});
            } finally {
              this.#scope = undefined;
            }
            break;
          }
        } finally {
          this.#scope = undefined;
        }
        await new Promise((r) => setTimeout(r, this.#retry.backoffMs * attempt));
      }
    }
    // A publish after a wait (shipping) happens outside the scope: it names the event as parent.
    const late = this.#late.get(event.id) ?? [];
    this.#late.delete(event.id);
    const ids = [...published, ...late];
    return failure === undefined ? {ids} : {ids, failure};
  }
}
