import type {Channel, ChannelModel, ConfirmChannel, ConsumeMessage} from 'amqplib';
import type {ValidationIssue} from '@switchboard/contracts';
import {clientAppender, SERVER, TopicLogUnavailableError, type Appender, type EventService, type Principal} from '@switchboard/hub';
import type {Logger} from 'pino';
import type {ConnectionUser, RabbitConnection} from './connection.js';
import {decodeMessage} from './message.js';
import type {BridgeObserver} from './observer.js';
import {queueArguments, type QueueType} from './queue-type.js';

/**
 * One ingest binding: messages of a queue (fed by an exchange and routing keys, or by producers
 * sending to it) become events of a hub topic.
 */
export interface IngestBinding {
  /** The hub topic its messages are appended to. */
  readonly topic: string;
  /** The queue consumed; declared durable, of `queueType`, with a single active consumer. Default `switchboard.ingest.<topic>`. */
  readonly queue?: string;
  /** The type of `queue`; default the bridge's `queueType` (`quorum`). */
  readonly queueType?: QueueType;
  /** An exchange to bind the queue to (declared durable, of `exchangeType`, when it does not exist). */
  readonly exchange?: string;
  /** Type of `exchange` when it is declared here; default `topic`. */
  readonly exchangeType?: 'topic' | 'direct' | 'fanout' | 'headers';
  /** Routing keys (patterns for a topic exchange) that bind the queue to `exchange`; default `['#']`. */
  readonly routingKeys?: readonly string[];
  /**
   * Who the producers are to the topic's policy: a principal (or anonymous, the default) publishing
   * like an HTTP client, or `'server'`: trusted, may append server-owned types.
   */
  readonly as?: Principal | 'server';
}

/** Settings every binding shares. */
export interface IngestSettings {
  /** Unacknowledged messages a binding holds at once; default 100. */
  readonly prefetch: number;
  /** Largest message body accepted; default 64 KB (larger ones are dead-lettered). */
  readonly maxMessageBytes: number;
  /** Exchange refused messages go to, with the reason in `x-switchboard-reason`. */
  readonly deadLetterExchange: string;
  /** Longest wait between attempts to append while the topic log is unavailable; default 5 s. */
  readonly maxRetryDelayMs: number;
  /** Type of the bindings' queues (unless a binding names its own) and of the dead-letter queue; default `quorum`. */
  readonly queueType?: QueueType;
}

/** Headers a dead letter carries besides the original message's own. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-switchboard-reason',
  issues: 'x-switchboard-issues',
  topic: 'x-switchboard-topic',
  exchange: 'x-switchboard-original-exchange',
  routingKey: 'x-switchboard-original-routing-key',
} as const;

/** The queue of a binding. */
export function queueOf(binding: IngestBinding): string {
  return binding.queue ?? `switchboard.ingest.${binding.topic}`;
}

/**
 * Consumes one binding's queue into its topic. Messages are handled one at a time in delivery order;
 * each is acknowledged only after its event was appended (or found already appended: the topic
 * log deduplicates by envelope id) or after it was dead-lettered with a publisher confirm. While
 * the log is unavailable the message is retried with backoff and nothing is acknowledged, so the
 * broker keeps the rest. The queue (quorum by default) has `x-single-active-consumer`: every hub node
 * may consume, the broker delivers to one at a time.
 */
export class IngestConsumer implements ConnectionUser {
  readonly #binding: IngestBinding;
  readonly #settings: IngestSettings;
  readonly #events: EventService;
  readonly #logger: Logger;
  readonly #observer: BridgeObserver;
  readonly #connection: RabbitConnection;
  readonly #appender: Appender;
  readonly #queueName: string;
  #channel: ConfirmChannel | undefined;
  /** Bumped on every (re)connect: work of an older channel stops. */
  #generation = 0;
  readonly #pending: ConsumeMessage[] = [];
  #draining = false;

  constructor(binding: IngestBinding, settings: IngestSettings, events: EventService, connection: RabbitConnection, logger: Logger, observer: BridgeObserver) {
    this.#binding = binding;
    this.#settings = settings;
    this.#events = events;
    this.#connection = connection;
    this.#logger = logger.child({binding: binding.topic});
    this.#observer = observer;
    this.#queueName = queueOf(binding);
    this.#appender = binding.as === 'server' ? SERVER : clientAppender('amqp', binding.as);
  }

  get queue(): string {
    return this.#queueName;
  }

  get topic(): string {
    return this.#binding.topic;
  }

  async opened(connection: ChannelModel): Promise<void> {
    const generation = ++this.#generation;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: unknown) => this.#connection.fail(error));
    await declareDeadLetters(channel, this.#settings.deadLetterExchange, this.#settings.queueType);
    await channel.assertQueue(this.#queueName, {durable: true, arguments: queueArguments(this.#binding.queueType ?? this.#settings.queueType ?? 'quorum', true)});
    const {exchange} = this.#binding;
    if (exchange !== undefined) {
      await channel.assertExchange(exchange, this.#binding.exchangeType ?? 'topic', {durable: true});
      for (const key of this.#binding.routingKeys ?? ['#']) await channel.bindQueue(this.#queueName, exchange, key);
    }
    await channel.prefetch(this.#settings.prefetch);
    this.#channel = channel;
    this.#pending.length = 0;
    await channel.consume(this.#queueName, (message) => {
      if (message === null) return; // the queue was deleted: the connection's close follows
      if (generation !== this.#generation) return;
      this.#pending.push(message);
      void this.#drain(generation);
    });
  }

  closed(): void {
    this.#generation++;
    this.#channel = undefined;
    this.#pending.length = 0;
  }

  async #drain(generation: number): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (generation === this.#generation && this.#pending.length > 0) {
        const message = this.#pending.shift()!;
        await this.#handle(message, generation);
      }
    } finally {
      this.#draining = false;
    }
    // Messages of a newer channel may have arrived while this loop finished the old one's.
    if (generation !== this.#generation && this.#pending.length > 0) void this.#drain(this.#generation);
  }

  async #handle(message: ConsumeMessage, generation: number): Promise<void> {
    const decoded = decodeMessage({content: message.content, contentType: message.properties.contentType, headers: message.properties.headers}, this.#settings.maxMessageBytes);
    if (!decoded.ok) return this.#deadLetter(message, generation, decoded.error, decoded.issues);
    let delay = 100;
    let failures = 0;
    for (;;) {
      if (generation !== this.#generation) return; // the channel is gone: the broker redelivers it
      try {
        const result = await this.#events.publish(this.#binding.topic, decoded.value, this.#appender);
        if (!result.ok) return this.#deadLetter(message, generation, result.error, result.issues);
        if (result.value.duplicate) this.#observer.duplicate(this.#binding.topic);
        else this.#observer.ingested(this.#binding.topic);
        this.#ack(message, generation);
        return;
      } catch (error) {
        if (!(error instanceof TopicLogUnavailableError) && ++failures >= 3) {
          this.#logger.error({err: error}, 'appending a message failed three times: dead-lettering it');
          return this.#deadLetter(message, generation, `internal error: ${(error as Error).message}`, []);
        }
        this.#observer.stalled(this.#binding.topic);
        this.#logger.warn({err: error}, `cannot append to "${this.#binding.topic}": retrying in ${delay} ms, nothing acknowledged`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.#settings.maxRetryDelayMs);
      }
    }
  }

  #ack(message: ConsumeMessage, generation: number): void {
    if (generation !== this.#generation || this.#channel === undefined) return;
    this.#channel.ack(message);
  }

  /** Publishes the message to the dead-letter exchange with the reason, waits for the confirm, then acknowledges it. */
  async #deadLetter(message: ConsumeMessage, generation: number, reason: string, issues: readonly ValidationIssue[]): Promise<void> {
    const channel = this.#channel;
    if (channel === undefined || generation !== this.#generation) return;
    const {fields, properties} = message;
    const headers = {
      ...(properties.headers ?? {}),
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.issues]: JSON.stringify(issues.slice(0, 20)),
      [DEAD_LETTER_HEADERS.topic]: this.#binding.topic,
      [DEAD_LETTER_HEADERS.exchange]: fields.exchange,
      [DEAD_LETTER_HEADERS.routingKey]: fields.routingKey,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        channel.publish(this.#settings.deadLetterExchange, this.#binding.topic, message.content, {
          ...definedProperties(properties),
          headers,
          persistent: true,
        }, (error: unknown) => (error == null ? resolve() : reject(error)));
      });
    } catch (error) {
      // Not confirmed: the original stays unacknowledged and comes back after the reconnect.
      this.#connection.fail(error);
      return;
    }
    this.#observer.deadLettered(this.#binding.topic);
    this.#logger.warn({reason, messageId: properties.messageId}, 'message dead-lettered');
    this.#ack(message, generation);
  }
}

/** The dead-letter exchange (topic, durable) and a queue of `type` (default quorum) that keeps every dead letter until someone reads it. */
export async function declareDeadLetters(channel: Channel, exchange: string, type: QueueType = 'quorum'): Promise<void> {
  await channel.assertExchange(exchange, 'topic', {durable: true});
  await channel.assertQueue(exchange, {durable: true, arguments: queueArguments(type)});
  await channel.bindQueue(exchange, exchange, '#');
}

/** The message properties worth carrying to a dead letter (amqplib reports absent ones as undefined). */
function definedProperties(properties: ConsumeMessage['properties']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['contentType', 'contentEncoding', 'correlationId', 'messageId', 'timestamp', 'type', 'appId'] as const) {
    if (properties[key] !== undefined) out[key] = properties[key];
  }
  return out;
}
