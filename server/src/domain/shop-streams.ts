import {createHash} from 'node:crypto';
import type {Bus, DeadLetter} from '@switchboard/bus';
import type {Contract, Envelope} from '@switchboard/contracts';
import {HubError, type CommandHandler, type EventService} from '@switchboard/hub';
import type {Logger} from 'pino';
import {ConsumerGroups, type ShopStreams} from './consumer-groups';

export type {ShopStreams} from './consumer-groups';

/** Options of {@link ShopOnStreams}. */
export interface ShopOnStreamsOptions {
  readonly streams: ShopStreams;
  readonly bus: Bus;
  readonly topics: readonly string[];
  readonly logger: Logger;
  readonly retry: {readonly attempts: number; readonly backoffMs: number};
  readonly deadLetter: (letter: DeadLetter) => void;
  /** Events a topic gave the server bus: the bridge must not store them again. */
  readonly ingest: (topic: string, event: Envelope) => void;
  /** Resolves once everything published so far is stored in its topic. */
  readonly stored: () => Promise<void>;
}

/**
 * The shop across nodes: services consume through consumer groups (each event handled by one node),
 * the read models and the services' own projections follow every topic on every node, rebuilt from
 * the streams at start. A handler's publishes get ids derived from the event it handles, so a
 * redelivery (after a node died mid-way) publishes the same ids and the topic log stores them once.
 */
export class ShopOnStreams {
  readonly #o: ShopOnStreamsOptions;
  readonly #groups: ConsumerGroups;
  /** The handling under way: its publishes get ids `hash(scope, n)` and, unless they name one, the handled event as parent. */
  #scope: {id: string; n: number; parent?: Envelope} | undefined;
  #stopWatching: (() => void) | undefined;

  constructor(options: ShopOnStreamsOptions) {
    this.#o = options;
    // Inventory decides on stock shared by every order: one node at a time (see ConsumerGroups).
    this.#groups = new ConsumerGroups(options.streams, options.topics, (service, event, handlers) => this.#run(service, event, handlers), options.logger, new Set(['inventory']));
  }

  /** The bus services see: the server bus, with derived ids on what they publish. */
  scopedBus(): Bus {
    const bus = this.#o.bus;
    const publish = (contract: Contract, data: unknown, given: {id?: string; parent?: Envelope; source?: string} = {}) => {
      // The bus links a handler's publishes to the event it handles only when it dispatched that
      // event itself; consumer groups dispatch here, so the link (causation, correlation) is made here.
      const parent = given.parent ?? this.#scope?.parent;
      const options = parent === undefined ? given : {...given, parent};
      const id = options.id ?? this.#derivedId(contract.type, options);
      return bus.publish(contract, data as never, id === undefined ? options : {...options, id});
    };
    return new Proxy(bus, {
      get: (target, p) => {
        if (p === 'publish') return publish;
        const value = (target as unknown as Record<PropertyKey, unknown>)[p];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /**
   * The event service services see: command handlers answer only once what they published is
   * stored, and a command is refused while Redis is unreachable, so none is acknowledged and lost.
   * What a command publishes gets ids derived from the command's, so sending it again is safe.
   */
  scopedEvents(events: EventService): EventService {
    const handle = <C extends Contract>(contract: C, handler: CommandHandler<C>) =>
      events.handle(contract, async (command, sender) => {
        if (!this.#o.streams.connection.client.isReady) throw new HubError('The event store is unavailable (Redis is unreachable); nothing was done. Try again.');
        this.#scope = {id: `command:${command.id}`, n: 0};
        let result: unknown;
        try {
          // The scope holds only while the handler runs synchronously: what it publishes then is its own.
          result = handler(command, sender);
        } finally {
          this.#scope = undefined;
        }
        result = await result;
        const stored = await Promise.race([this.#o.stored().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
        if (!stored) throw new HubError('The event store did not confirm this command in time; sending it again is safe.');
        return result;
      });
    return new Proxy(events, {
      get: (target, p) => {
        if (p === 'handle') return handle;
        const value = (target as unknown as Record<PropertyKey, unknown>)[p];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Registers a service's handler with its consumer group. */
  on(service: string, contract: Contract, handler: (e: Envelope) => void): void {
    this.#groups.register(service, contract.type, handler);
  }

  /** Rebuilds the projections from the topic streams, follows them live, then starts consuming. */
  async start(): Promise<void> {
    const {log} = this.#o.streams;
    const topics = new Set(this.#o.topics);
    const held: Array<{topic: string; event: Envelope}> = [];
    let live = false;
    this.#stopWatching = log.watch({
      appended: (appended) => {
        const {topic} = appended;
        if (!topics.has(topic)) return;
        if (live) this.#o.ingest(topic, appended.event);
        else held.push({topic, event: appended.event});
      },
    });
    const history: Array<{topic: string; event: Envelope}> = [];
    for (const topic of topics) {
      for (let after: string | null = null; ;) {
        const page = await log.read(topic, after, 1000);
        for (const {event} of page.entries) history.push({topic, event});
        if (page.entries.length < 1000) break;
        after = page.next;
      }
    }
    // Topics interleave: replay them in the order the events happened.
    history.sort((a, b) => (a.event.time < b.event.time ? -1 : a.event.time > b.event.time ? 1 : 0));
    for (const {topic, event} of [...history, ...held]) this.#o.ingest(topic, event);
    live = true;
    await this.#groups.start();
  }

  close(): void {
    this.#groups.close();
    this.#stopWatching?.();
  }

  /** Runs a service's handlers with retries (then a dead letter), and waits until what they published is stored. */
  async #run(service: string, event: Envelope, handlers: ReadonlyArray<(e: Envelope) => void>): Promise<void> {
    const {attempts, backoffMs} = this.#o.retry;
    for (const [index, handler] of handlers.entries()) {
      for (let attempt = 1; ; attempt++) {
        this.#scope = {id: `${service}:${index}:${event.id}`, n: 0, parent: event};
        try {
          handler(event);
          break;
        } catch (error) {
          if (attempt >= attempts) {
            this.#scope = undefined;
            this.#o.deadLetter({envelope: event, subscriber: `service:${service}`, error, attempt});
            break;
          }
        } finally {
          this.#scope = undefined;
        }
        await new Promise((r) => setTimeout(r, backoffMs * attempt));
      }
    }
    await this.#o.stored();
  }

  #derivedId(type: string, options: {parent?: Envelope; source?: string}): string | undefined {
    let basis: string | undefined;
    if (this.#scope !== undefined) basis = `${this.#scope.id}:${this.#scope.n++}`;
    else if (options.parent !== undefined) basis = `${options.source ?? ''}:${options.parent.id}:${type}`;
    if (basis === undefined) return undefined;
    // Shaped as a UUID (version 8: derived, not random), like the ids the bus makes.
    const h = createHash('sha256').update(basis).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
