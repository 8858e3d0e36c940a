import type {ChannelModel, ConfirmChannel} from 'amqplib';
import type {Envelope} from '@switchboard/contracts';
import type {ConnectionUser, RabbitConnection} from '@switchboard/rabbitmq';
import type {Logger} from 'pino';
import {SHOP_SERVICES_EXCHANGE} from './topology';

/** One event waiting for the broker's confirm. */
interface Pending {
  readonly event: Envelope;
  readonly confirmed: Promise<void>;
  readonly resolve: () => void;
}

/**
 * What the services publish, on its way to `shop.services`: each event is published with a
 * publisher confirm and kept until the broker confirmed it. Events a lost connection left
 * unconfirmed are published again, in order, when it comes back (with the same ids: the hub's log
 * stores them once). A service acknowledges the event it handled only once everything it
 * published for it is confirmed ({@link confirmed}).
 */
export class Outbox implements ConnectionUser {
  readonly #connection: RabbitConnection;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Pending>();
  #channel: ConfirmChannel | undefined;
  #generation = 0;

  constructor(connection: RabbitConnection, logger: Logger) {
    this.#connection = connection;
    this.#logger = logger;
  }

  /** Events not confirmed yet. */
  get size(): number {
    return this.#pending.size;
  }

  async opened(connection: ChannelModel): Promise<void> {
    const generation = ++this.#generation;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: unknown) => this.#connection.fail(error));
    // Mandatory: a service event nothing routes would be lost; the topology declares its queue, so this is a broken setup.
    channel.on('return', (message: {properties: {messageId?: string}}) => this.#logger.error({id: message.properties.messageId}, 'a service event was unroutable (is the shop topology declared?)'));
    this.#channel = channel;
    for (const pending of [...this.#pending.values()]) this.#send(pending, channel, generation);
  }

  closed(): void {
    this.#generation++;
    this.#channel = undefined;
  }

  /** Publishes `event` (routing key: its type); resolves once the broker confirmed it, whichever connection that takes. */
  publish(event: Envelope): Promise<void> {
    const existing = this.#pending.get(event.id);
    if (existing !== undefined) return existing.confirmed;
    let resolve!: () => void;
    const confirmed = new Promise<void>((r) => (resolve = r));
    const pending = {event, confirmed, resolve};
    this.#pending.set(event.id, pending);
    if (this.#channel !== undefined) this.#send(pending, this.#channel, this.#generation);
    return confirmed;
  }

  /** Resolves once the events of these ids are confirmed (those no longer pending were). */
  async confirmed(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.#pending.get(id)?.confirmed));
  }

  /** Resolves once everything published so far is confirmed. */
  async drained(): Promise<void> {
    await Promise.all([...this.#pending.values()].map((p) => p.confirmed));
  }

  #send(pending: Pending, channel: ConfirmChannel, generation: number): void {
    const {event} = pending;
    try {
      channel.publish(
        SHOP_SERVICES_EXCHANGE,
        event.type,
        Buffer.from(JSON.stringify(event)),
        {persistent: true, mandatory: true, contentType: 'application/json', messageId: event.id, type: event.type, correlationId: event.correlationId, appId: 'switchboard-shop-services'},
        (error: unknown) => {
          if (error == null) {
            this.#pending.delete(event.id);
            pending.resolve();
          } else if (generation === this.#generation) {
            // Nacked or the channel went: publish it again on the next connection.
            this.#connection.fail(error);
          }
        },
      );
    } catch (error) {
      if (generation === this.#generation) this.#connection.fail(error);
    }
  }
}
