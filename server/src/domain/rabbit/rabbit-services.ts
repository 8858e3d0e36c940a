import {randomUUID} from 'node:crypto';
import {Bus, matcher} from '@switchboard/bus';
import type {Contract, Envelope, EnvelopeOf} from '@switchboard/contracts';
import {HubError, type CommandSender} from '@switchboard/hub';
import {RabbitConnection, type QueueType} from '@switchboard/rabbitmq';
import {DeadLetterRecorded, shopRegistry} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';
import {ServiceRunner, type RetryPolicy} from '../service-runner';
import {SERVICE_COMMANDS, type ServiceContext} from '../services';
import {Outbox} from './outbox';
import {ProjectionFeed} from './projection-feed';
import {ServiceQueue, type CommandOutcome, type QueueCommandHandler, type QueueHandler} from './service-queue';
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
  readonly retry?: RetryPolicy;
  /** Unacknowledged deliveries per service queue; default 20. */
  readonly prefetch?: number;
  /** Longest wait for the projections to include an event before it is handled anyway; default 10 s. */
  readonly catchUpMs?: number;
  /** Larger messages in a service's queue are dead-lettered unread; default 64 KB. */
  readonly maxMessageBytes?: number;
  /** Type of the shop's queues, as the hub declares them (`AMQP_QUEUE_TYPE`); default `quorum`. */
  readonly queueType?: QueueType;
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
 * one at a time, single active consumer). Commands stay with the hub, but for those a service
 * decides on its own state (`inventory.restock`): they reach it by RPC through its queue.
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
  readonly #runner: ServiceRunner;
  readonly #logger: Logger;
  /** Ids published outside a handling (after a wait), by the event they name as parent: its handling waits for their confirms too. */
  readonly #late = new Map<string, string[]>();
  readonly #scoped: Bus;

  constructor(options: RabbitServicesOptions) {
    const registry = shopRegistry();
    this.#logger = options.logger;
    this.#runner = new ServiceRunner({
      retry: options.retry ?? RABBIT_SERVICES_DEFAULTS.retry,
      deadLetter: ({service, event, error, attempt}) => {
        const reason = failureOf(error);
        options.logger.error({service, id: event.id, type: event.type, error: reason}, 'dead letter');
        this.#scoped.publish(DeadLetterRecorded, {eventId: event.id, eventType: event.type, subscriber: `service:${service}`, error: reason, attempt}, {source: 'service:dead-letters'});
      },
    });
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
      command: (service: string, command: Envelope, handler: QueueCommandHandler, sender: CommandSender) => this.#command(service, command, handler, sender),
      confirmed: (ids: readonly string[]) => this.#outbox.confirmed(ids),
      drained: () => this.#outbox.drained(),
    };
    this.#scoped = this.#scopedBus();
    const queueOf = (service: string): ServiceQueue => {
      let queue = this.#queues.get(service);
      if (queue === undefined) {
        queue = new ServiceQueue(service, host, {...queueOptions, concurrent: CONCURRENT.has(service), exclusive: EXCLUSIVE_SERVICES.has(service)});
        this.#queues.set(service, queue);
      }
      return queue;
    };
    const ctx: ServiceContext = {
      bus: this.#scoped,
      // A command a service decides on its own state (inventory.restock) comes to its queue by RPC;
      // the others (order.place, settings.change) are answered by the hub.
      events: {
        handle: (contract, handler) => {
          const service = SERVICE_COMMANDS.get(contract.type);
          if (service !== undefined) queueOf(service).registerCommand(contract.type, handler as QueueCommandHandler);
          return () => {};
        },
      },
      on: <C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void | Promise<void>) => {
        queueOf(service).register(contract.type, handler as QueueHandler);
      },
      defer: (stop) => void this.#stops.push(stop),
      project: (target, _name, apply, reset) => this.#feed.add({matches: matcher(target), apply, reset}),
      newId: (purpose) => this.#runner.newId(purpose) ?? randomUUID(),
    };
    registerShopServices(ctx, options);
    const types = new Map([...this.#queues].map(([service, queue]) => [service, queue.types] as const));
    this.#connection.use({
      opened: async (model) => {
        const channel = await model.createChannel();
        await declareShopTopology(channel, types, options.queueType);
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
    return this.#runner.bus(this.#bus, (envelope, handling, parent) => {
      if (handling === undefined && parent !== undefined) {
        // Published after a wait (shipping), outside the handling: its handling waits for this confirm too.
        this.#late.set(parent.id, [...(this.#late.get(parent.id) ?? []), envelope.id]);
        // Bounded: a publish whose parent is not being handled here is never collected.
        if (this.#late.size > 10_000) this.#late.delete(this.#late.keys().next().value!);
      }
      void this.#outbox.publish(envelope);
    });
  }

  /** Runs a command's handler once, as a handling of its own (ids derived from the command's), and waits for its result. */
  async #command(service: string, command: Envelope, handler: QueueCommandHandler, sender: CommandSender): Promise<CommandOutcome> {
    const published: string[] = [];
    try {
      const result: unknown = await this.#runner.within(`${service}:command:${command.id}`, () => handler(command, sender), undefined, published);
      return {ids: published, result};
    } catch (error) {
      // A deliberate refusal (HubError) is the page's answer; anything else is the service's fault, logged here.
      if (error instanceof HubError) return {ids: published, error: error.message};
      this.#logger.error({err: error, service, type: command.type, id: command.id}, 'a command handler failed');
      return {ids: published, error: `The ${service} service failed to handle "${command.type}".`};
    }
  }

  /** Runs a service's handlers with retries; the last failure publishes a dead letter. Resolves with the ids published. */
  async #run(service: string, event: Envelope, handlers: readonly QueueHandler[]): Promise<{ids: readonly string[]; failure?: string}> {
    const {published, failure} = await this.#runner.run(service, event, handlers);
    // A publish after a wait (shipping) happens outside the handling: it names the event as parent.
    const late = this.#late.get(event.id) ?? [];
    this.#late.delete(event.id);
    const ids = [...published, ...late];
    return failure === undefined ? {ids} : {ids, failure: failureOf(failure.error)};
  }
}

/** A handler's error as a dead letter's reason (bounded like every string of the contracts). */
function failureOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
