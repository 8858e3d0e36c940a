import {randomUUID} from 'node:crypto';
import type {Channel, ChannelModel, ConsumeMessage} from 'amqplib';
import type {Contract, Envelope} from '@switchboard/contracts';
import {HubError, type CommandSender, type EventService} from '@switchboard/hub';
import type {Logger} from 'pino';
import type {ConnectionUser} from './connection.js';
import type {BridgeObserver} from './observer.js';

/** A command contract whose handler is a service reached over RabbitMQ. */
export interface CommandRoute {
  /** The command (a contract of kind `command`); registered with the hub's command handlers. */
  readonly contract: Contract;
  /** The exchange the request is published to; default `''` (the default exchange: `routingKey` is a queue name). */
  readonly exchange?: string;
  /** The routing key (with the default exchange, the service's queue); default the command's type. */
  readonly routingKey?: string;
  /** How long to wait for the answer; default 5 s. Also the request's `expiration`, so a late service does not act on it. */
  readonly timeoutMs?: number;
}

/** The header a service sets on its reply to refuse the command; its value is the message shown to the page. */
export const RPC_ERROR_HEADER = 'x-switchboard-error';

/** The header carrying the sender's user id to the service (absent for anonymous senders). */
export const RPC_USER_HEADER = 'x-switchboard-user';

/** RabbitMQ's pseudo-queue for replies without a reply queue of one's own. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** Default of {@link CommandRoute.timeoutMs}. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

interface Waiting {
  readonly type: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Commands from pages (`bus.send` → the hub's `command`) answered by services over RabbitMQ: the
 * request is the envelope as JSON, published with `mandatory`, `replyTo: amq.rabbitmq.reply-to`
 * and a fresh `correlationId`; the service's reply (JSON, or {@link RPC_ERROR_HEADER} to refuse)
 * becomes the invocation's result or error. No route to a queue, no answer in time, no connection
 * and too many commands waiting each end the command with a clear error.
 */
export class CommandRouter implements ConnectionUser {
  readonly #logger: Logger;
  readonly #observer: BridgeObserver;
  readonly #maxPending: number;
  readonly #waiting = new Map<string, Waiting>();
  #channel: Channel | undefined;

  constructor(routes: readonly CommandRoute[], events: EventService, logger: Logger, observer: BridgeObserver, maxPending: number) {
    this.#logger = logger.child({component: 'rpc'});
    this.#observer = observer;
    this.#maxPending = maxPending;
    for (const route of routes) {
      events.handle(route.contract, (command, sender) => this.#request(route, command, sender));
    }
  }

  async opened(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', () => {}); // the close that follows ends the pending commands
    channel.on('close', () => {
      if (this.#channel === channel) this.closed();
    });
    channel.on('return', (message: ConsumeMessage) => {
      const id = message.properties.correlationId as string | undefined;
      const waiting = id === undefined ? undefined : this.#waiting.get(id);
      if (waiting === undefined) return;
      this.#end(id!, 'unroutable');
      waiting.reject(new HubError(`No service receives "${waiting.type}": nothing is bound to route ${message.fields.exchange === '' ? 'queue' : `exchange "${message.fields.exchange}" key`} "${message.fields.routingKey}".`));
    });
    // Direct reply-to needs its consumer before the first request goes out, on the same channel.
    await channel.consume(DIRECT_REPLY_TO, (message) => message !== null && this.#reply(message), {noAck: true});
    this.#channel = channel;
  }

  closed(): void {
    this.#channel = undefined;
    for (const [id, waiting] of [...this.#waiting]) {
      this.#end(id, 'unavailable');
      waiting.reject(new HubError(`The connection to the services (RabbitMQ) was lost before "${waiting.type}" was answered; it may or may not have been handled.`));
    }
  }

  /** Commands waiting for an answer now. */
  get pending(): number {
    return this.#waiting.size;
  }

  #request(route: CommandRoute, command: Envelope, sender: CommandSender): Promise<unknown> {
    const channel = this.#channel;
    if (channel === undefined) {
      this.#observer.command(command.type, 'unavailable');
      return Promise.reject(new HubError(`"${command.type}" cannot be sent: the services' broker (RabbitMQ) is unreachable. Try again.`));
    }
    if (this.#waiting.size >= this.#maxPending) {
      this.#observer.command(command.type, 'unavailable');
      return Promise.reject(new HubError(`Too many commands are waiting for services (${this.#maxPending}, option maxPendingCommands). Try again.`));
    }
    const timeoutMs = route.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const correlationId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#end(correlationId, 'timeout');
        reject(new HubError(`No service answered "${command.type}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.#waiting.set(correlationId, {type: command.type, resolve, reject, timer});
      const userId = sender.principal?.userId;
      channel.publish(route.exchange ?? '', route.routingKey ?? command.type, Buffer.from(JSON.stringify(command)), {
        mandatory: true,
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        messageId: command.id,
        type: command.type,
        contentType: 'application/json',
        expiration: String(timeoutMs),
        headers: userId === undefined ? {} : {[RPC_USER_HEADER]: userId},
      });
    });
  }

  #reply(message: ConsumeMessage): void {
    const id = message.properties.correlationId as string | undefined;
    const waiting = id === undefined ? undefined : this.#waiting.get(id);
    if (waiting === undefined) return; // answered after its timeout: nobody waits any more
    const refusal = message.properties.headers?.[RPC_ERROR_HEADER];
    if (refusal !== undefined) {
      this.#end(id!, 'rejected');
      waiting.reject(new HubError(Buffer.isBuffer(refusal) ? refusal.toString('utf8') : String(refusal)));
      return;
    }
    let result: unknown;
    try {
      result = message.content.length === 0 ? null : JSON.parse(message.content.toString('utf8'));
    } catch {
      this.#end(id!, 'rejected');
      this.#logger.warn({type: waiting.type}, 'a service answered with a body that is not JSON');
      waiting.reject(new HubError(`The service answering "${waiting.type}" sent a reply that is not JSON.`));
      return;
    }
    this.#end(id!, 'answered');
    waiting.resolve(result);
  }

  #end(id: string, outcome: Parameters<BridgeObserver['command']>[1]): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return;
    clearTimeout(waiting.timer);
    this.#waiting.delete(id);
    this.#observer.command(waiting.type, outcome);
  }
}
