import type {Bus, DeadLetter} from '@switchboard/bus';
import type {Contract, Envelope} from '@switchboard/contracts';
import {HubError, positionOf, type CommandHandler, type EventService} from '@switchboard/hub';
import type {Logger} from 'pino';
import {ConsumerGroups, type ShopStreams} from './consumer-groups';
import {ServiceRunner, type RetryPolicy, type ServiceHandler} from './service-runner';
import {StreamFollower, type TopicEvent} from './stream-follower';
import {withMethod} from './with-method';

export type {ShopStreams} from './consumer-groups';

/** Options of {@link ShopOnStreams}. */
export interface ShopOnStreamsOptions {
  readonly streams: ShopStreams;
  readonly bus: Bus;
  readonly topics: readonly string[];
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly deadLetter: (letter: DeadLetter) => void;
  /** Gives the read models and the services' projections an event of a topic, in the topics' order. */
  readonly apply: (topic: string, event: Envelope) => void;
  /** The topics were lost or cut: reset everything derived from them and apply these, all that is left. */
  readonly rebuild: (events: readonly TopicEvent[]) => void;
  /** Resolves once everything published so far is stored in its topic. */
  readonly stored: () => Promise<void>;
}

/**
 * The shop across nodes: services consume through consumer groups (each event handled by one node),
 * the read models and the services' own projections follow every topic on every node, built from
 * the streams at start and kept whole across Redis outages and restarts ({@link StreamFollower}). A handler's publishes get ids derived from the event it handles, so a
 * redelivery (after a node died mid-way) publishes the same ids and the topic log stores them once.
 */
export class ShopOnStreams {
  readonly #o: ShopOnStreamsOptions;
  readonly #groups: ConsumerGroups;
  readonly #runner: ServiceRunner;
  readonly #follower: StreamFollower;

  constructor(options: ShopOnStreamsOptions) {
    this.#o = options;
    this.#runner = new ServiceRunner({
      retry: options.retry,
      deadLetter: ({service, event, error, attempt}) => options.deadLetter({envelope: event, subscriber: `service:${service}`, error, attempt}),
    });
    // Inventory decides on stock shared by every order: one node at a time (see ConsumerGroups).
    // The read models follow every topic on every node; a service handles an event only once they include it.
    this.#follower = new StreamFollower({
      log: options.streams.log,
      topics: options.topics,
      logger: options.logger,
      apply: ({topic, event}) => options.apply(topic, event),
      rebuild: options.rebuild,
    });
    this.#groups = new ConsumerGroups(
      options.streams,
      options.topics,
      (service, event, handlers) => this.#run(service, event, handlers),
      options.logger,
      new Set(['inventory']),
      (topic, epoch, seq) => this.#follower.reached(topic, epoch, seq),
      // Shipping waits before it ships: its orders wait side by side, each acknowledged once shipped.
      new Set(['shipping']),
    );
  }

  /** The bus services see: the server bus, with derived ids on what they publish. */
  scopedBus(): Bus {
    return this.#runner.bus(this.#o.bus);
  }

  /**
   * The event service services see: command handlers answer only once what they published is
   * stored, and a command is refused while Redis is unreachable, so none is acknowledged and lost.
   * What a command publishes gets ids derived from the command's, so sending it again is safe.
   */
  scopedEvents(events: EventService): EventService {
    const handle = <C extends Contract>(contract: C, handler: CommandHandler<C>) =>
      events.handle(contract, async (command, sender) => {
        if (!this.#o.streams.connection.isReady) throw new HubError('The event store is unavailable (Redis is unreachable); nothing was done. Try again.');
        // The handling holds only while the handler runs synchronously: what it publishes then is its own.
        const result: unknown = await this.#runner.within(`command:${command.id}`, () => handler(command, sender));
        // Answered once stored, and once this node's read models show it (read your writes), within 5 s.
        const stored = await Promise.race([this.#o.stored().then(() => this.caughtUp().then(() => true)), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
        if (!stored) throw new HubError('The event store did not confirm this command in time; sending it again is safe.');
        return result;
      });
    return withMethod(events, 'handle', handle as never);
  }

  /** An id derived from the command or event being handled (the same when it is handled again); undefined outside a handling. */
  newId(purpose: string): string | undefined {
    return this.#runner.newId(purpose);
  }

  /** Registers a service's handler with its consumer group. */
  on(service: string, contract: Contract, handler: ServiceHandler): void {
    this.#groups.register(service, contract.type, handler);
  }

  /** Builds the read models from the topic streams, follows them live, then starts consuming. */
  async start(): Promise<void> {
    await this.#follower.start();
    await this.#groups.start();
  }

  /**
   * Resolves once what this node published so far is stored and the read models include all the
   * topics held then (best effort: after at most about `timeoutMs` in any case).
   */
  async caughtUp(timeoutMs = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stored = await Promise.race([this.#o.stored().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!stored) return;
    const {log} = this.#o.streams;
    const heads = await Promise.all(this.#o.topics.map((t) => log.head(t))).catch(() => []);
    await Promise.all(
      heads.map((head, i) => {
        const at = head === null ? undefined : positionOf(head);
        return at === undefined ? undefined : this.#follower.reached(this.#o.topics[i]!, at.epoch, at.seq, timeoutMs).catch(() => undefined);
      }),
    );
  }

  /** The offsets of the topics the read models reflect (the last event applied from each). */
  offsets(topics: readonly string[]): Record<string, string | null> {
    return this.#follower.offsets(topics);
  }

  close(): void {
    this.#groups.close();
    this.#follower.close();
  }

  /** Runs a service's handlers with retries (then a dead letter), and waits until they finished and what they published is stored. */
  async #run(service: string, event: Envelope, handlers: ReadonlyArray<ServiceHandler>): Promise<void> {
    await this.#runner.run(service, event, handlers);
    await this.#o.stored();
  }
}
