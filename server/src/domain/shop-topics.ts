import {matcher, type Bus} from '@switchboard/bus';
import type {Envelope} from '@switchboard/contracts';
import {grantsOf, matchesAny, TopicLogUnavailableError, type Appender, type EventService} from '@switchboard/hub';
import {shopTopics} from '@switchboard/shop-contracts';
import type {Logger} from 'pino';

/** Ids of events the topics gave the server bus, remembered so the bridge does not store them again. */
export const REMEMBERED = 100_000;

/** Options of {@link ShopTopicBridge}. */
export interface ShopTopicBridgeOptions {
  readonly bus: Bus;
  readonly events: EventService;
  readonly logger: Logger;
  /** Whether the services consume the topics on Redis streams (else the in-process log's appends). */
  readonly onStreams: boolean;
  /** Whether the services run in this process (else they run elsewhere, over RabbitMQ). */
  readonly runServices: boolean;
}

/**
 * The shop's server bus ⇄ its topics: what the services publish is appended to its topic, in
 * order and retried while the engine is unreachable; in memory, what the topics get from outside
 * reaches the services, a granted producer's events only.
 */
export class ShopTopicBridge {
  readonly #o: ShopTopicBridgeOptions;
  readonly #topicOf = Object.entries(shopTopics).flatMap(([topic, patterns]) => patterns.map((p) => ({topic, matches: matcher(p)})));
  readonly #fromTopics = new Set<string>();
  /** With the services elsewhere: ids this shop appended itself (already on its bus), so its listener skips them. */
  readonly #ownAppends = new Set<string>();
  /** Appends to topics run one after another, retried while the engine is down, so none is lost or reordered. */
  #storing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ShopTopicBridgeOptions) {
    this.#o = options;
  }

  /** Settles once every append queued so far has been made (or given up). */
  get stored(): Promise<void> {
    return this.#storing;
  }

  /** Starts bridging; returns a function that stops it. */
  start(): () => void {
    const {bus, events, logger, onStreams, runServices} = this.#o;
    const stops = [
      bus.subscribe(
        '*',
        (e) => {
          const topic = this.#topicOf.find((t) => t.matches(e.type))?.topic;
          if (topic === undefined || bus.registry.get(e.type, e.version)?.kind === 'command') return;
          if (!this.#fromTopics.has(e.id)) this.#store(topic, e);
        },
        {name: 'switchboard:topics'},
      ),
    ];
    // In memory, what this process appends is all there is; on streams the log's feed (every node's
    // appends) is followed instead. The server's own events are on the bus already; of the rest, the
    // services trust only a granted producer's (the topic policies refuse the others' anyway).
    if (!onStreams) {
      stops.push(
        events.onAppended((topic, _offset, event, by) => {
          // With the services elsewhere, their events are appended by the server's RabbitMQ binding: this shop's projections need them.
          if (by.kind === 'server') {
            if (!runServices && !this.#ownAppends.has(event.id)) this.#ingest(topic, event);
            return;
          }
          if (!isGrantedProducer(topic, by)) {
            logger.warn({topic, type: event.type, id: event.id}, 'event from an ungranted client kept away from the services');
            return;
          }
          this.#ingest(topic, event);
        }),
      );
    }
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** Stops retrying appends. */
  close(): void {
    this.#closed = true;
  }

  /** Hands an event a topic received to the server bus (remembering it came from there). */
  #ingest(topic: string, event: Envelope): void {
    remember(this.#fromTopics, event.id);
    this.#o.bus.ingest(event, `topic:${topic}`);
  }

  /** Appends a service's event to its topic, after those before it; retried while the engine is unreachable. */
  #store(topic: string, event: Envelope): void {
    const {events, logger} = this.#o;
    if (!this.#o.onStreams) {
      if (!this.#o.runServices) remember(this.#ownAppends, event.id);
      // In memory the append is done before publish returns: nothing to wait for or retry.
      events.append(topic, event).catch((error: unknown) => logger.error({err: error, topic, id: event.id}, 'event not stored in its topic'));
      return;
    }
    const store = async (): Promise<void> => {
      for (;;) {
        try {
          await events.append(topic, event);
          return;
        } catch (error) {
          // The engine reports a Redis that is unreachable or still loading its AOF as unavailable: try again.
          const transient = error instanceof TopicLogUnavailableError;
          if (!transient || this.#closed) {
            logger.error({err: error, topic, id: event.id}, 'event not stored in its topic');
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    this.#storing = this.#storing.then(store);
  }
}

/** Adds `id`, forgetting the oldest past {@link REMEMBERED}. */
function remember(ids: Set<string>, id: string): void {
  ids.add(id);
  if (ids.size > REMEMBERED) ids.delete(ids.values().next().value!);
}

/** A client whose token grants publishing on `topic`: the only outsider whose events the services act on. */
function isGrantedProducer(topic: string, by: Appender): boolean {
  return by.kind === 'client' && by.principal !== undefined && matchesAny(grantsOf(by.principal).publish, topic);
}
