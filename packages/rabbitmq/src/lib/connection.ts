import amqp, {type ChannelModel} from 'amqplib';
import type {Logger} from 'pino';

/** Something that runs on a live connection: set up when it opens, dropped when it closes. */
export interface ConnectionUser {
  /** Called on every (re)connect with the new connection; channels it opens die with it. */
  opened(connection: ChannelModel): Promise<void>;
  /** The connection is gone: stop using its channels (unacknowledged deliveries return to their queues). */
  closed(): void;
}

/** Options of {@link RabbitConnection}. */
export interface RabbitConnectionOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Shown in the broker's connection list. */
  readonly name?: string;
  /** Longest wait between reconnect attempts; default 5 s (it starts at 200 ms and doubles). */
  readonly maxReconnectDelayMs?: number;
  /**
   * Longest wait for a connection to open and every user to be set up; default 20 s. A broker that
   * is still booting accepts TCP before it speaks AMQP (or serves its queues): past this the attempt
   * is abandoned and the next one follows, rather than waiting for ever.
   */
  readonly openTimeoutMs?: number;
}

/** Default of {@link RabbitConnectionOptions.openTimeoutMs}. */
export const DEFAULT_OPEN_TIMEOUT_MS = 20_000;

/** The URL with its password hidden, for messages and logs. */
export function redactAmqpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * One AMQP connection that comes back: {@link start} connects or fails with a clear message (wrong
 * URL, refused credentials, no broker); afterwards a lost connection is retried with backoff, and
 * every {@link ConnectionUser} is told when it closes and when a new one opens. Any channel error
 * closes the whole connection, so every user starts again from a known state.
 */
export class RabbitConnection {
  readonly #options: RabbitConnectionOptions;
  readonly #users: ConnectionUser[] = [];
  #connection: ChannelModel | undefined;
  #closing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = 200;
  /** How many times a connection was lost after start (for metrics). */
  reconnects = 0;

  constructor(options: RabbitConnectionOptions) {
    this.#options = options;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#connection !== undefined;
  }

  /** Adds a user of the connection (before {@link start}). */
  use(user: ConnectionUser): void {
    this.#users.push(user);
  }

  /** Connects and sets every user up; rejects with a message naming the broker and the cause. */
  async start(): Promise<void> {
    try {
      await this.#open();
    } catch (error) {
      throw new Error(`Cannot connect to RabbitMQ at ${redactAmqpUrl(this.#options.url)}: ${describe(error)}`, {cause: error});
    }
  }

  /** Closes the connection for good (unacknowledged deliveries return to their queues). */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    const connection = this.#connection;
    this.#drop();
    await connection?.close().catch(() => {});
  }

  /** Drops the connection (after a channel error): users stop, and a reconnect follows. */
  fail(error: unknown): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    this.#options.logger.warn({err: error}, 'RabbitMQ channel failed: reconnecting');
    void connection.close().catch(() => {});
    this.#lost();
  }

  async #open(): Promise<void> {
    const timeoutMs = this.#options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    // amqplib's socket timeout covers the TCP connect and the AMQP handshake.
    const connection = await amqp.connect(this.#options.url, {timeout: timeoutMs, clientProperties: {connection_name: this.#options.name ?? 'switchboard'}});
    connection.on('error', (error: unknown) => this.#options.logger.warn({err: error}, 'RabbitMQ connection error'));
    connection.on('close', () => {
      if (this.#connection === connection) this.#lost();
    });
    connection.on('blocked', (reason: unknown) => this.#options.logger.warn({reason}, 'RabbitMQ blocked publishing (a resource alarm)'));
    this.#connection = connection;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const setUp = (async () => {
        for (const user of this.#users) await user.opened(connection);
      })();
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the broker did not finish setting up the connection within ${timeoutMs} ms`)), timeoutMs);
      });
      setUp.catch(() => {}); // closing the connection below rejects what is still under way
      await Promise.race([setUp, late]);
    } catch (error) {
      this.#drop();
      // A broker that does not answer may not answer the close either: give up on it after a second.
      await Promise.race([connection.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref?.())]);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#delay = 200;
  }

  #drop(): void {
    if (this.#connection === undefined) return;
    this.#connection = undefined;
    for (const user of this.#users) user.closed();
  }

  #lost(): void {
    this.#drop();
    if (this.#closing || this.#timer !== undefined) return;
    this.reconnects++;
    this.#options.logger.warn(`RabbitMQ connection lost: reconnecting in ${this.#delay} ms`);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closing) return;
      this.#open().then(
        () => this.#options.logger.info('RabbitMQ connection open again'),
        (error: unknown) => {
          this.#options.logger.warn({err: error}, `RabbitMQ reconnect failed: next attempt in ${this.#delay} ms`);
          this.#delay = Math.min(this.#delay * 2, this.#options.maxReconnectDelayMs ?? 5000);
          if (!this.#closing && this.#timer === undefined) this.#schedule();
        },
      );
    }, this.#delay);
    // Not unref'd: a process that only consumes (a services process) has nothing else keeping it
    // alive while the broker is away, and would exit instead of reconnecting. close() clears it.
  }
}

/** A connect error in words: refused credentials and unreachable brokers are the usual two. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as {code?: unknown}).code;
  if (/ACCESS_REFUSED|403/.test(message)) return `the broker refused the credentials (${message})`;
  if (code === 'ECONNREFUSED') return 'nothing accepts connections there (is the broker running, is the port right?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name does not resolve (${message})`;
  if (/NOT_ALLOWED|530/.test(message)) return `the broker refused the vhost (${message})`;
  return message;
}
