import type {ChannelModel, ConfirmChannel, ConsumeMessage} from 'amqplib';
import type {ContractRegistry, Envelope} from '@switchboard/contracts';
import type {CommandSender} from '@switchboard/hub';
import {DEAD_LETTER_HEADERS, EGRESS_HEADERS, RPC_ERROR_HEADER, RPC_USER_HEADER, type ConnectionUser, type RabbitConnection} from '@switchboard/rabbitmq';
import type {Logger} from 'pino';
import type {ProjectionFeed} from './projection-feed';
import {SHOP_DEAD_LETTERS, serviceQueue} from './topology';

/** A service's handler of one event; one that returns a promise is done when it settles. */
export type QueueHandler = (e: Envelope) => void | Promise<void>;

/** A service's handler of one command: its result is the answer, a throw the refusal. */
export type QueueCommandHandler = (command: Envelope, sender: CommandSender) => unknown;

/** How a command's handling ended: the ids published, and the result or the refusal's message. */
export type CommandOutcome = {readonly ids: readonly string[]} & ({readonly result: unknown} | {readonly error: string});

/** What a {@link ServiceQueue} needs of the process around it. */
export interface ServiceQueueHost {
  readonly registry: ContractRegistry;
  readonly feed: ProjectionFeed;
  readonly connection: RabbitConnection;
  readonly logger: Logger;
  /** Runs the handlers with retries (a dead letter after the last); resolves with the ids of what they published. */
  run(service: string, event: Envelope, handlers: readonly QueueHandler[]): Promise<{ids: readonly string[]; failure?: string}>;
  /** Runs a command's handler once (a refusal is an answer, not retried); resolves with the ids of what it published. */
  command(service: string, command: Envelope, handler: QueueCommandHandler, sender: CommandSender): Promise<CommandOutcome>;
  /** Resolves once the events of these ids are confirmed by the broker. */
  confirmed(ids: readonly string[]): Promise<void>;
  /** Resolves once everything published so far is confirmed. */
  drained(): Promise<void>;
}

/** Options of one service's queue. */
export interface ServiceQueueOptions {
  /** Unacknowledged deliveries at once; default 20. */
  readonly prefetch: number;
  /** Handles deliveries side by side (a service that waits, like shipping) rather than one after another. */
  readonly concurrent: boolean;
  /**
   * Decides on state shared by all its events (inventory's stock): before each event, waits until
   * the projections include what it published last and everything in the stream so far (what a
   * consumer that died before it saw), so it never decides on a stale copy.
   */
  readonly exclusive: boolean;
  /** Longest wait for the projections before handling anyway (with a warning); default 10 s. */
  readonly catchUpMs: number;
  /** Larger messages are dead-lettered unread; default 64 KB. */
  readonly maxMessageBytes: number;
}

/**
 * One service's durable queue, consumed competitively with the same service in other processes.
 * A delivery is acknowledged only after its handlers ran and the broker confirmed what they
 * published, so a process killed mid-way leaves it unacknowledged and the broker hands it to
 * another consumer; that one derives the same ids for what it publishes, so the hub stores them once.
 * A message that is not an event of the shop's contracts is dead-lettered with the reason.
 */
export class ServiceQueue implements ConnectionUser {
  readonly #service: string;
  readonly #handlers = new Map<string, QueueHandler[]>();
  readonly #commands = new Map<string, QueueCommandHandler>();
  readonly #host: ServiceQueueHost;
  readonly #options: ServiceQueueOptions;
  readonly #queue: string;
  readonly #waiting: ConsumeMessage[] = [];
  #channel: ConfirmChannel | undefined;
  #generation = 0;
  #draining = false;
  /** What this service published for the event it handled last (an exclusive service waits to see it). */
  #lastPublished: readonly string[] = [];
  /** Deliveries handled (acknowledged), for logs and tests. */
  handled = 0;

  constructor(service: string, host: ServiceQueueHost, options: ServiceQueueOptions) {
    this.#service = service;
    this.#host = host;
    this.#options = options;
    this.#queue = serviceQueue(service);
  }

  /** The event types this service handles. */
  get types(): readonly string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Answers one command type sent to this queue by RPC (the hub's command route, reply-to and
   * correlation id): in delivery order with the queue's events, so it decides on the same state.
   */
  registerCommand(type: string, handler: QueueCommandHandler): void {
    this.#commands.set(type, handler);
  }

  /** Adds a handler of one event type (before the connection opens). */
  register(type: string, handler: QueueHandler): void {
    this.#handlers.set(type, [...(this.#handlers.get(type) ?? []), handler]);
  }

  async opened(connection: ChannelModel): Promise<void> {
    const generation = ++this.#generation;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: unknown) => this.#host.connection.fail(error));
    await channel.prefetch(this.#options.prefetch);
    this.#channel = channel;
    this.#waiting.length = 0;
    await channel.consume(this.#queue, (message) => {
      if (message === null || generation !== this.#generation) return;
      if (this.#options.concurrent) void this.#handle(message, generation).catch((error: unknown) => this.#failed(error));
      else {
        this.#waiting.push(message);
        void this.#drain(generation);
      }
    });
  }

  closed(): void {
    this.#generation++;
    this.#channel = undefined;
    this.#waiting.length = 0;
  }

  async #drain(generation: number): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (generation === this.#generation && this.#waiting.length > 0) await this.#handle(this.#waiting.shift()!, generation);
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#draining = false;
    }
    if (generation !== this.#generation && this.#waiting.length > 0) void this.#drain(this.#generation);
  }

  /** Nothing in a handling is meant to throw; if something does, start over from a new connection (the broker redelivers). */
  #failed(error: unknown): void {
    this.#host.logger.error({err: error, service: this.#service}, 'handling a delivery failed unexpectedly: reconnecting');
    this.#host.connection.fail(error);
  }

  async #handle(message: ConsumeMessage, generation: number): Promise<void> {
    const {logger, feed, registry} = this.#host;
    if (message.content.length > this.#options.maxMessageBytes) {
      return this.#deadLetter(message, generation, `too large: ${message.content.length} bytes, the limit is ${this.#options.maxMessageBytes}`);
    }
    let input: unknown;
    try {
      input = JSON.parse(message.content.toString('utf8'));
    } catch {
      return this.#deadLetter(message, generation, 'the message is not JSON');
    }
    const valid = registry.validate(input);
    if (!valid.ok) return this.#deadLetter(message, generation, `not an event of the shop's contracts: ${valid.error}`);
    const event = valid.value;
    const command = registry.get(event.type, event.version)?.kind === 'command' ? this.#commands.get(event.type) : undefined;
    const handlers = this.#handlers.get(event.type);
    // Only sent straight to the queue (its bindings are the handled types): not lost in silence.
    if (handlers === undefined && command === undefined) return this.#deadLetter(message, generation, `the ${this.#service} service does not handle "${event.type}"`);
    const headers = message.properties.headers ?? {};
    const topic = headers[EGRESS_HEADERS.topic];
    const offset = headers[EGRESS_HEADERS.offset];
    const wait = this.#options.catchUpMs;
    // Decide on projections that include the event itself (the services read their own state from them).
    if (typeof topic === 'string' && typeof offset === 'string' && !(await feed.reached(topic, offset, wait))) {
      logger.warn({service: this.#service, topic, offset}, 'the projections did not reach the event in time: handling it anyway');
    }
    if (this.#options.exclusive) {
      const caughtUp = (await feed.seenAll(this.#lastPublished, wait)) && (await feed.barrier(wait));
      if (!caughtUp) logger.warn({service: this.#service}, 'the projections did not catch up in time: handling anyway');
    }
    if (generation !== this.#generation) return; // the channel is gone: the broker delivers it again
    if (command !== undefined) return this.#answer(message, generation, event, command);
    const {ids, failure} = await this.#host.run(this.#service, event, handlers!);
    await this.#host.confirmed(ids);
    // Handled again here after a lost connection, a handler may publish nothing (it remembers the
    // first time); what it published then may still be waiting for its confirm: wait for all.
    if (message.fields.redelivered) await this.#host.drained();
    this.#lastPublished = ids;
    if (failure !== undefined) return this.#deadLetter(message, generation, failure);
    if (generation !== this.#generation || this.#channel === undefined) return;
    this.#channel.ack(message);
    this.handled++;
    logger.debug({service: this.#service, type: event.type, id: event.id, redelivered: message.fields.redelivered}, 'handled');
  }

  /** Runs a command, waits for the confirms of what it published, replies to its sender (if it named a reply queue), then acknowledges it. */
  async #answer(message: ConsumeMessage, generation: number, command: Envelope, handler: QueueCommandHandler): Promise<void> {
    const user = message.properties.headers?.[RPC_USER_HEADER];
    const userId = Buffer.isBuffer(user) ? user.toString('utf8') : typeof user === 'string' ? user : undefined;
    const outcome = await this.#host.command(this.#service, command, handler, {principal: userId === undefined ? undefined : {userId}});
    await this.#host.confirmed(outcome.ids);
    if (message.fields.redelivered) await this.#host.drained();
    this.#lastPublished = outcome.ids;
    const channel = this.#channel;
    if (generation !== this.#generation || channel === undefined) return;
    const {replyTo, correlationId} = message.properties;
    if (typeof replyTo === 'string' && replyTo !== '') {
      const refused = 'error' in outcome;
      channel.publish('', replyTo, Buffer.from(refused ? '' : JSON.stringify(outcome.result ?? null)), {
        ...(correlationId === undefined ? {} : {correlationId}),
        contentType: 'application/json',
        headers: refused ? {[RPC_ERROR_HEADER]: outcome.error} : {},
      });
    }
    channel.ack(message);
    this.handled++;
    this.#host.logger.debug({service: this.#service, type: command.type, id: command.id, redelivered: message.fields.redelivered}, 'handled');
  }

  /** Sends the message to the dead-letter exchange with the reason, confirmed, then acknowledges it. */
  async #deadLetter(message: ConsumeMessage, generation: number, reason: string): Promise<void> {
    const channel = this.#channel;
    if (channel === undefined || generation !== this.#generation) return;
    const {properties, fields} = message;
    try {
      channel.publish(SHOP_DEAD_LETTERS, this.#queue, message.content, {
        persistent: true,
        ...(properties.messageId === undefined ? {} : {messageId: properties.messageId}),
        ...(properties.contentType === undefined ? {} : {contentType: properties.contentType}),
        headers: {
          ...(properties.headers ?? {}),
          [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 500),
          [DEAD_LETTER_HEADERS.exchange]: fields.exchange,
          [DEAD_LETTER_HEADERS.routingKey]: fields.routingKey,
          'x-switchboard-service': this.#service,
        },
      });
      await channel.waitForConfirms();
    } catch (error) {
      // Not confirmed: the original stays unacknowledged and comes back after the reconnect.
      return this.#host.connection.fail(error);
    }
    this.#host.logger.warn({service: this.#service, reason, messageId: properties.messageId}, 'message dead-lettered');
    if (generation === this.#generation) channel.ack(message);
  }
}
