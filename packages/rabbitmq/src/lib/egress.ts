import type {Channel, ChannelModel, ConfirmChannel} from 'amqplib';
import type {Envelope} from '@switchboard/contracts';
import type {ReadResult, TopicLog} from '@switchboard/hub';
import type {Logger} from 'pino';
import type {ConnectionUser, RabbitConnection} from './connection.js';
import type {BridgeObserver} from './observer.js';
import {queueArguments, type QueueType} from './queue-type.js';

/** Topics whose events are published to an exchange. */
export interface EgressRoute {
  /** The hub topics published. */
  readonly topics: readonly string[];
  /** The exchange (declared durable, type `topic`); default `switchboard.events`. */
  readonly exchange?: string;
  /** The routing key of an event; default its type (`order.placed`), so queues bind by type patterns. */
  readonly routingKey?: (topic: string, event: Envelope) => string;
  /** Where a topic with no remembered position starts: `earliest` retained event (default) or `latest` (only new ones). */
  readonly from?: 'earliest' | 'latest';
}

/** Headers each egressed message carries; its `messageId` is the envelope id. */
export const EGRESS_HEADERS = {topic: 'x-switchboard-topic', offset: 'x-switchboard-offset'} as const;

/** Events read from the log and published per confirm round. */
const BATCH = 200;

/** How long a pump sleeps when no append woke it (a missed notice is caught up this late). */
const IDLE_MS = 1000;

/** How often a node that is not the publisher tries to become it. */
const LEADER_RETRY_MS = 2000;

/**
 * Publishes topics to an exchange, in log order, with publisher confirms. One hub node at a time
 * publishes (the holder of an exclusive consumer on the `<exchange>.egress-leader` queue; when its
 * connection dies the broker lets the next one in). After each confirmed batch, the last confirmed
 * offset per topic is written to the `<exchange>.egress-state` queue (quorum by default; a one-message,
 * durable register), so a restarted or newly elected publisher continues from there: what was
 * published but not recorded is published again, which consumers deduplicate by `messageId`.
 */
export class EgressPublisher implements ConnectionUser {
  readonly #route: EgressRoute;
  readonly #exchange: string;
  readonly #queueType: QueueType;
  readonly #log: TopicLog;
  readonly #connection: RabbitConnection;
  readonly #logger: Logger;
  readonly #observer: BridgeObserver;
  readonly #wakers = new Map<string, () => void>();
  readonly #offsets = new Map<string, string | null>();
  #generation = 0;
  #leader = false;
  #unwatch: (() => void) | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  /** Batches being published now (awaited by a graceful close). */
  readonly #busy = new Set<Promise<boolean>>();

  constructor(route: EgressRoute, log: TopicLog, connection: RabbitConnection, logger: Logger, observer: BridgeObserver, queueType: QueueType = 'quorum') {
    this.#queueType = queueType;
    this.#route = route;
    this.#exchange = route.exchange ?? 'switchboard.events';
    this.#log = log;
    this.#connection = connection;
    this.#logger = logger.child({egress: this.#exchange});
    this.#observer = observer;
  }

  /** The exchange published to. */
  get exchange(): string {
    return this.#exchange;
  }

  /** Whether this node publishes now. */
  get leader(): boolean {
    return this.#leader;
  }

  /** The last confirmed offset of each topic, as this node knows it. */
  get confirmed(): ReadonlyMap<string, string | null> {
    return this.#offsets;
  }

  async opened(connection: ChannelModel): Promise<void> {
    const generation = ++this.#generation;
    const setup = await connection.createChannel();
    setup.on('error', () => {});
    await setup.assertExchange(this.#exchange, 'topic', {durable: true});
    await setup.assertQueue(this.#leaderQueue, {durable: true});
    await setup.assertQueue(this.#stateQueue, {durable: true, arguments: {...queueArguments(this.#queueType), 'x-max-length': 1}});
    await setup.close();
    this.#unwatch ??= this.#log.watch({
      topics: this.#route.topics,
      appended: ({topic}) => this.#wakers.get(topic)?.(),
      resumed: () => this.#wakeAll(),
    });
    void this.#campaign(connection, generation);
  }

  closed(): void {
    this.#generation++;
    this.#leader = false;
    clearTimeout(this.#retry);
    this.#wakeAll();
  }

  /**
   * Stops publishing: the batch under way finishes and its offset is recorded in the broker (for at
   * most `graceMs`), so the next publisher does not repeat it; then stops following the log.
   */
  async close(graceMs = 2000): Promise<void> {
    this.#stopping = true;
    this.#wakeAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled([...this.#busy]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.closed();
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  get #leaderQueue(): string {
    return `${this.#exchange}.egress-leader`;
  }

  get #stateQueue(): string {
    return `${this.#exchange}.egress-state`;
  }

  /** Tries to become the publisher; on refusal (another node is), tries again later. */
  async #campaign(connection: ChannelModel, generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    let lock: Channel | undefined;
    try {
      lock = await connection.createChannel();
      lock.on('error', () => {}); // a refused exclusive consume closes the channel: expected
      await lock.consume(this.#leaderQueue, () => {}, {exclusive: true, noAck: true});
    } catch {
      if (generation === this.#generation) this.#retry = setTimeout(() => void this.#campaign(connection, generation), LEADER_RETRY_MS);
      return;
    }
    if (generation !== this.#generation) return;
    lock.on('close', () => {
      if (generation === this.#generation) this.#connection.fail(new Error('egress leader channel closed'));
    });
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: unknown) => this.#connection.fail(error));
      await this.#loadState(channel);
      this.#leader = true;
      this.#logger.info({offsets: Object.fromEntries(this.#offsets)}, 'this node publishes the egress');
      for (const topic of this.#route.topics) void this.#pump(channel, topic, generation);
    } catch (error) {
      this.#connection.fail(error);
    }
  }

  async #loadState(channel: ConfirmChannel): Promise<void> {
    const message = await channel.get(this.#stateQueue, {noAck: false});
    this.#offsets.clear();
    if (message !== false) {
      try {
        const saved = JSON.parse(message.content.toString('utf8')) as {offsets?: Record<string, string | null>};
        for (const [topic, offset] of Object.entries(saved.offsets ?? {})) if (this.#route.topics.includes(topic)) this.#offsets.set(topic, offset);
      } catch {
        this.#logger.warn('the egress state message is not JSON: starting as if none was saved');
      }
      channel.nack(message, false, true); // left in place: it is the register's value
    }
    for (const topic of this.#route.topics) {
      if (this.#offsets.has(topic)) continue;
      this.#offsets.set(topic, this.#route.from === 'latest' ? await this.#log.head(topic) : null);
    }
  }

  async #pump(channel: ConfirmChannel, topic: string, generation: number): Promise<void> {
    while (generation === this.#generation && !this.#stopping) {
      let page;
      try {
        page = await this.#log.read(topic, this.#offsets.get(topic) ?? null, BATCH);
      } catch (error) {
        this.#logger.warn({err: error, topic}, 'cannot read the topic log: egress waits');
        await this.#sleep(topic, IDLE_MS);
        continue;
      }
      if (generation !== this.#generation) return;
      if (page.truncated && this.#offsets.get(topic) != null) {
        this.#logger.warn({topic, after: this.#offsets.get(topic)}, 'events after the last published offset are gone from the log (retention or a lost log): continuing from the oldest retained');
      }
      if (page.entries.length === 0) {
        await this.#sleep(topic, IDLE_MS);
        continue;
      }
      const batch = this.#publish(channel, topic, page.entries, generation);
      this.#busy.add(batch);
      try {
        if (!(await batch)) return;
      } finally {
        this.#busy.delete(batch);
      }
    }
  }

  /** Publishes one batch and waits for its confirms, then records the offset; false when the channel failed or the generation ended. */
  async #publish(channel: ConfirmChannel, topic: string, entries: ReadResult['entries'], generation: number): Promise<boolean> {
    try {
      for (const {offset, event} of entries) {
        const routingKey = this.#route.routingKey?.(topic, event) ?? event.type;
        const sent = channel.publish(this.#exchange, routingKey, Buffer.from(JSON.stringify(event)), {
          persistent: true,
          contentType: 'application/json',
          messageId: event.id,
          correlationId: event.correlationId,
          type: event.type,
          appId: 'switchboard',
          timestamp: Math.floor(Date.parse(event.time) / 1000) || undefined,
          headers: {[EGRESS_HEADERS.topic]: topic, [EGRESS_HEADERS.offset]: offset},
        });
        if (!sent) await new Promise((r) => channel.once('drain', r));
      }
      await channel.waitForConfirms();
      if (generation !== this.#generation) return false;
      this.#offsets.set(topic, entries.at(-1)!.offset);
      this.#observer.egressed(topic, entries.length);
      channel.sendToQueue(this.#stateQueue, Buffer.from(JSON.stringify({offsets: Object.fromEntries(this.#offsets)})), {persistent: true, contentType: 'application/json'});
      // Stopping: the state must be in the broker before the connection closes, or the next publisher repeats this batch.
      if (this.#stopping) await channel.waitForConfirms();
      return true;
    } catch (error) {
      // A nack or a lost channel: publish again from the last confirmed offset after the reconnect.
      if (generation === this.#generation) this.#connection.fail(error);
      return false;
    }
  }

  #sleep(topic: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(topic);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.set(topic, done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers.values()]) wake();
  }
}
