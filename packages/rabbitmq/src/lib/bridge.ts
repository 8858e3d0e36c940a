import type {ChannelModel} from 'amqplib';
import {TOPIC_PATTERN, type SwitchboardServer} from '@switchboard/hub';
import type {Logger} from 'pino';
import {RabbitConnection, redactAmqpUrl} from './connection.js';
import {EgressPublisher, type EgressRoute} from './egress.js';
import {IngestConsumer, type IngestBinding, type IngestSettings} from './ingest.js';
import {BridgeMetrics} from './metrics.js';
import {CommandRouter, type CommandRoute} from './rpc.js';
import {DEFAULT_QUEUE_TYPE, queueArguments, type QueueType} from './queue-type.js';

/** Options of {@link RabbitBridge}. */
export interface RabbitBridgeOptions {
  /** The broker, e.g. `amqp://user:password@rabbit:5672/vhost`. */
  readonly url: string;
  /** The Switchboard server whose topics, commands, metrics and health the bridge joins. */
  readonly server: SwitchboardServer;
  /** RabbitMQ → topics. */
  readonly ingest?: readonly IngestBinding[];
  /** Topics → exchanges. */
  readonly egress?: readonly EgressRoute[];
  /** Commands from pages answered by services over RPC. */
  readonly commands?: readonly CommandRoute[];
  /** Unacknowledged messages each binding holds at once; default 100. */
  readonly prefetch?: number;
  /** Largest ingest message body; default 64 KB. */
  readonly maxMessageBytes?: number;
  /** Exchange (and queue of the same name) refused messages go to; default `switchboard.dead-letter`. */
  readonly deadLetterExchange?: string;
  /** Commands waiting for a service's answer at once; default 1,000. */
  readonly maxPendingCommands?: number;
  /** Longest wait between reconnects and between append retries; default 5 s. */
  readonly maxRetryDelayMs?: number;
  /**
   * Type of the queues the bridge declares (bindings' queues, unless one names its own; the
   * dead-letter queue; the egress state): `quorum` (default) or `classic`, which a single-node
   * broker serves again at once after a crash (see {@link QueueType}).
   */
  readonly queueType?: QueueType;
  readonly logger?: Logger;
}

/** Defaults of {@link RabbitBridgeOptions}. */
export const RABBIT_DEFAULTS = {
  prefetch: 100,
  maxMessageBytes: 64 * 1024,
  deadLetterExchange: 'switchboard.dead-letter',
  maxPendingCommands: 1000,
  maxRetryDelayMs: 5000,
  queueType: DEFAULT_QUEUE_TYPE,
} as const;

/**
 * Switchboard ⇄ RabbitMQ: ingest bindings append messages of queues to hub topics, egress routes
 * publish topics to exchanges, command routes answer pages' commands by RPC to services. Its state
 * shows in the server's `/healthz` (under `rabbitmq`) and `/metrics` (`switchboard_rabbitmq_*`).
 *
 * ```ts
 * const bridge = new RabbitBridge({
 *   url: 'amqp://guest:guest@localhost:5672',
 *   server,
 *   ingest: [{topic: 'orders', exchange: 'shop', routingKeys: ['order.*']}],
 *   egress: [{topics: ['orders'], exchange: 'switchboard.events'}],
 * });
 * await server.listen(8080);
 * await bridge.start(); // rejects with a clear message for a wrong URL or credentials
 * ```
 */
export class RabbitBridge {
  readonly #connection: RabbitConnection;
  readonly #ingest: IngestConsumer[];
  readonly #egress: EgressPublisher[];
  readonly #rpc: CommandRouter | undefined;
  readonly #url: string;
  #model: ChannelModel | undefined;

  constructor(options: RabbitBridgeOptions) {
    const {server} = options;
    const logger = (options.logger ?? server.logger).child({component: 'rabbitmq'});
    this.#url = redactAmqpUrl(options.url);
    const maxRetryDelayMs = options.maxRetryDelayMs ?? RABBIT_DEFAULTS.maxRetryDelayMs;
    this.#connection = new RabbitConnection({url: options.url, logger, maxReconnectDelayMs: maxRetryDelayMs, name: 'switchboard-hub'});
    const metrics = new BridgeMetrics(server.metrics.registry, this.#state());
    const settings: IngestSettings = {
      prefetch: options.prefetch ?? RABBIT_DEFAULTS.prefetch,
      maxMessageBytes: options.maxMessageBytes ?? RABBIT_DEFAULTS.maxMessageBytes,
      deadLetterExchange: options.deadLetterExchange ?? RABBIT_DEFAULTS.deadLetterExchange,
      maxRetryDelayMs,
      queueType: options.queueType ?? RABBIT_DEFAULTS.queueType,
    };
    queueArguments(settings.queueType!); // a wrong type fails here, not at the first connect
    for (const binding of options.ingest ?? []) if (binding.queueType !== undefined) queueArguments(binding.queueType);
    const queues = new Set<string>();
    const topics = [...(options.ingest ?? []).map((b) => b.topic), ...(options.egress ?? []).flatMap((e) => e.topics)];
    for (const topic of topics) if (!TOPIC_PATTERN.test(topic)) throw new Error(`"${topic}" is not a topic name: 1-128 letters, digits, ".", "_", ":" or "-".`);
    this.#ingest = (options.ingest ?? []).map((binding) => {
      const consumer = new IngestConsumer(binding, settings, server.events, this.#connection, logger, metrics);
      if (queues.has(consumer.queue)) throw new Error(`Two ingest bindings consume the queue "${consumer.queue}": give each its own queue.`);
      queues.add(consumer.queue);
      return consumer;
    });
    this.#egress = (options.egress ?? []).map((route) => new EgressPublisher(route, server.events.log, this.#connection, logger, metrics, settings.queueType));
    this.#rpc = options.commands === undefined || options.commands.length === 0
      ? undefined
      : new CommandRouter(options.commands, server.events, logger, metrics, options.maxPendingCommands ?? RABBIT_DEFAULTS.maxPendingCommands);
    this.#connection.use({
      opened: async (model) => {
        this.#model = model;
      },
      closed: () => {
        this.#model = undefined;
      },
    });
    if (this.#rpc !== undefined) this.#connection.use(this.#rpc);
    for (const consumer of this.#ingest) this.#connection.use(consumer);
    for (const publisher of this.#egress) this.#connection.use(publisher);
    server.addHealthCheck('rabbitmq', () => ({
      ok: this.#connection.connected,
      url: this.#url,
      connected: this.#connection.connected,
      bindings: this.#ingest.map((c) => ({topic: c.topic, queue: c.queue})),
      egressLeader: this.#egress.some((e) => e.leader),
      pendingCommands: this.#rpc?.pending ?? 0,
    }));
  }

  /** Connects, declares the queues and exchanges, and starts consuming; rejects with a clear message when the broker cannot be reached or refuses. */
  start(): Promise<void> {
    return this.#connection.start();
  }

  /** Whether the broker connection is open. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Lets the egress finish its batch, then closes the connection; unacknowledged messages return to their queues for another node. */
  async close(): Promise<void> {
    await Promise.all(this.#egress.map((publisher) => publisher.close()));
    await this.#connection.close();
  }

  #state() {
    const bridge = this;
    return {
      get connected() {
        return bridge.#connection.connected;
      },
      get reconnects() {
        return bridge.#connection.reconnects;
      },
      get egressLeaders() {
        return new Map(bridge.#egress.map((e) => [e.exchange, e.leader] as const));
      },
      backlog: () => this.#backlog(),
    };
  }

  /** Ready messages per binding, read with passive declares on a channel of their own. */
  async #backlog(): Promise<ReadonlyMap<string, number>> {
    const model = this.#model;
    const counts = new Map<string, number>();
    if (model === undefined || this.#ingest.length === 0) return counts;
    try {
      const channel = await model.createChannel();
      channel.on('error', () => {});
      for (const consumer of this.#ingest) counts.set(consumer.topic, (await channel.checkQueue(consumer.queue)).messageCount);
      await channel.close();
    } catch {
      // A queue deleted under us or a connection closing: report what was read.
    }
    return counts;
  }
}
