import {randomUUID} from 'node:crypto';
import type {Channel, ChannelModel, ConsumeMessage} from 'amqplib';
import type {ContractRegistry, Envelope} from '@switchboard/contracts';
import {positionOf} from '@switchboard/hub';
import {EGRESS_HEADERS, type ConnectionUser, type RabbitConnection} from '@switchboard/rabbitmq';
import type {Logger} from 'pino';
import {SHOP_EVENTS_LOG} from './topology';

/** A projection a service keeps: what it follows, how it applies an event, how it forgets everything. */
export interface Projection {
  readonly matches: (type: string) => boolean;
  readonly apply: (e: Envelope) => void;
  readonly reset: (() => void) | undefined;
}

/** Header of a barrier: a marker a consumer appends to the stream to learn when the feed has read everything before it. */
const BARRIER_HEADER = 'x-shop-barrier';
/** Stream messages read ahead (a stream consumer must set a prefetch). */
const READ_AHEAD = 500;
/** Ids remembered as applied, for "has the feed seen what I published". */
const REMEMBERED_IDS = 100_000;

/**
 * Feeds a services process's projections from the `shop.events.log` stream: from its first
 * message at start, then live, resuming after the last message read when the connection comes
 * back. Events the hub's egress published twice (a new egress leader repeats what was not
 * recorded) are skipped by their topic offset; an event of a new epoch in a topic (the hub's log
 * started a new life) resets every projection, as a rebuild from that log would.
 */
export class ProjectionFeed implements ConnectionUser {
  readonly #projections: Projection[] = [];
  readonly #registry: ContractRegistry;
  readonly #logger: Logger;
  readonly #connection: RabbitConnection;
  /** The last position applied per topic. */
  readonly #applied = new Map<string, {epoch: string; seq: number}>();
  readonly #seen = new Set<string>();
  readonly #waiters = new Set<{check: () => boolean; resolve: () => void}>();
  #channel: Channel | undefined;
  /** The stream offset of the last message read: where a new consumer resumes. */
  #streamOffset: number | undefined;
  #generation = 0;

  constructor(registry: ContractRegistry, connection: RabbitConnection, logger: Logger) {
    this.#registry = registry;
    this.#connection = connection;
    this.#logger = logger;
  }

  /** Adds a projection (before the feed starts). */
  add(projection: Projection): void {
    this.#projections.push(projection);
  }

  async opened(connection: ChannelModel): Promise<void> {
    const generation = ++this.#generation;
    const channel = await connection.createChannel();
    channel.on('error', (error: unknown) => this.#connection.fail(error));
    await channel.prefetch(READ_AHEAD);
    this.#channel = channel;
    const from = this.#streamOffset === undefined ? 'first' : this.#streamOffset + 1;
    await channel.consume(SHOP_EVENTS_LOG, (message) => {
      if (message === null || generation !== this.#generation) return;
      this.#read(message);
      channel.ack(message);
    }, {noAck: false, arguments: {'x-stream-offset': from}});
  }

  closed(): void {
    this.#generation++;
    this.#channel = undefined;
  }

  /** Resolves once the projections include the event at `offset` of `topic` (or a later one); false after `timeoutMs`. */
  reached(topic: string, offset: string, timeoutMs: number): Promise<boolean> {
    const at = positionOf(offset);
    if (at === undefined) return Promise.resolve(true);
    return this.#until(() => {
      const applied = this.#applied.get(topic);
      return applied !== undefined && applied.epoch === at.epoch && applied.seq >= at.seq;
    }, timeoutMs);
  }

  /** Resolves once every one of `ids` was applied (or was seen stored under that id by anyone); false after `timeoutMs`. */
  seenAll(ids: Iterable<string>, timeoutMs: number): Promise<boolean> {
    const wanted = [...ids];
    return this.#until(() => wanted.every((id) => this.#seen.has(id)), timeoutMs);
  }

  /**
   * Appends a marker to the stream and resolves once the feed read it: everything in the stream
   * before it (e.g. what a consumer that died had seen) is then applied. False after `timeoutMs`
   * or without a connection.
   */
  async barrier(timeoutMs: number): Promise<boolean> {
    const channel = this.#channel;
    if (channel === undefined) return false;
    const id = randomUUID();
    let read = false;
    const waiter = this.#until(() => read, timeoutMs);
    this.#barriers.set(id, () => (read = true));
    channel.sendToQueue(SHOP_EVENTS_LOG, Buffer.from('{}'), {headers: {[BARRIER_HEADER]: id}});
    const done = await waiter;
    this.#barriers.delete(id);
    return done;
  }

  readonly #barriers = new Map<string, () => void>();

  #read(message: ConsumeMessage): void {
    const headers = message.properties.headers ?? {};
    const streamOffset = headers['x-stream-offset'];
    if (typeof streamOffset === 'number') this.#streamOffset = streamOffset;
    const barrier = headers[BARRIER_HEADER];
    if (typeof barrier === 'string') {
      this.#barriers.get(barrier)?.();
      return this.#wake();
    }
    const topic = headers[EGRESS_HEADERS.topic];
    const offset = headers[EGRESS_HEADERS.offset];
    const at = typeof offset === 'string' ? positionOf(offset) : undefined;
    if (typeof topic !== 'string' || at === undefined) return;
    let input: unknown;
    try {
      input = JSON.parse(message.content.toString('utf8'));
    } catch {
      return void this.#logger.warn({topic, offset}, 'a message of the events stream is not JSON: skipped');
    }
    const last = this.#applied.get(topic);
    if (last !== undefined && last.epoch === at.epoch && at.seq <= last.seq) return; // published again: applied already
    if (last !== undefined && last.epoch !== at.epoch) {
      this.#logger.warn({topic, epoch: at.epoch}, 'the hub\'s log started a new life: the projections start again from it');
      for (const p of this.#projections) p.reset?.();
      this.#applied.clear();
      this.#seen.clear();
    }
    this.#applied.set(topic, at);
    const valid = this.#registry.validate(input);
    if (!valid.ok) return void this.#logger.warn({topic, offset, error: valid.error}, 'an event in the stream breaks its contract: the projections skip it');
    const event = valid.value;
    this.#seen.add(event.id);
    if (this.#seen.size > REMEMBERED_IDS) this.#seen.delete(this.#seen.values().next().value!);
    for (const p of this.#projections) {
      if (!p.matches(event.type)) continue;
      try {
        p.apply(event);
      } catch (error) {
        this.#logger.error({err: error, id: event.id, type: event.type}, 'a projection failed on an event');
      }
    }
    this.#wake();
  }

  #until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) if (w.check()) w.resolve();
  }
}
