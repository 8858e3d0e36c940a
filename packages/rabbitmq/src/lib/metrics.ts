import {Counter, Gauge, type Registry} from 'prom-client';
import type {BridgeObserver, CommandOutcome} from './observer.js';

/** What the metrics read from the bridge when scraped. */
export interface BridgeState {
  readonly connected: boolean;
  readonly reconnects: number;
  /** Messages ready in each binding's queue, by topic; empty while disconnected. */
  backlog(): Promise<ReadonlyMap<string, number>>;
  /** Whether this node publishes the egress, by exchange. */
  readonly egressLeaders: ReadonlyMap<string, boolean>;
}

/**
 * The bridge's Prometheus series, registered in the server's registry (so `GET /metrics` shows
 * them): the broker connection, per binding the backlog, events ingested, duplicates, dead letters
 * and stalls, per topic events egressed, and commands by outcome. Labels are configuration (topics
 * of bindings and routes, command types), never message content, so their number is bounded.
 */
export class BridgeMetrics implements BridgeObserver {
  readonly #ingested: Counter<'topic'>;
  readonly #duplicates: Counter<'topic'>;
  readonly #dead: Counter<'topic'>;
  readonly #stalled: Counter<'topic'>;
  readonly #egressed: Counter<'topic'>;
  readonly #commands: Counter<'type' | 'outcome'>;

  constructor(registry: Registry, state: BridgeState) {
    const registers = [registry];
    new Gauge({
      name: 'switchboard_rabbitmq_connected',
      help: 'Whether the connection to RabbitMQ is open (1) or being retried (0).',
      registers,
      collect() {
        this.set(state.connected ? 1 : 0);
      },
    });
    new Counter({
      name: 'switchboard_rabbitmq_reconnects_total',
      help: 'Connections to RabbitMQ lost and retried.',
      registers,
      collect() {
        this.reset();
        this.inc(state.reconnects);
      },
    });
    new Gauge({
      name: 'switchboard_rabbitmq_backlog',
      help: 'Messages ready in each ingest binding\'s queue, not yet delivered to a hub node.',
      labelNames: ['topic'],
      registers,
      async collect() {
        this.reset();
        for (const [topic, n] of await state.backlog()) this.set({topic}, n);
      },
    });
    new Gauge({
      name: 'switchboard_rabbitmq_egress_leader',
      help: 'Whether this hub node publishes the egress to an exchange (one node does).',
      labelNames: ['exchange'],
      registers,
      collect() {
        this.reset();
        for (const [exchange, leader] of state.egressLeaders) this.set({exchange}, leader ? 1 : 0);
      },
    });
    this.#ingested = new Counter({name: 'switchboard_rabbitmq_ingested_total', help: 'Messages appended to their binding\'s topic.', labelNames: ['topic'], registers});
    this.#duplicates = new Counter({name: 'switchboard_rabbitmq_duplicates_total', help: 'Redelivered messages whose event the topic already held (acknowledged, not appended).', labelNames: ['topic'], registers});
    this.#dead = new Counter({name: 'switchboard_rabbitmq_dead_letters_total', help: 'Messages refused and sent to the dead-letter exchange.', labelNames: ['topic'], registers});
    this.#stalled = new Counter({name: 'switchboard_rabbitmq_append_retries_total', help: 'Appends retried because the topic log was unavailable.', labelNames: ['topic'], registers});
    this.#egressed = new Counter({name: 'switchboard_rabbitmq_egressed_total', help: 'Events published to the egress exchange and confirmed by the broker.', labelNames: ['topic'], registers});
    this.#commands = new Counter({name: 'switchboard_rabbitmq_commands_total', help: 'Commands sent to services over RPC, by outcome.', labelNames: ['type', 'outcome'], registers});
  }

  ingested(topic: string): void {
    this.#ingested.inc({topic});
  }

  duplicate(topic: string): void {
    this.#duplicates.inc({topic});
  }

  deadLettered(topic: string): void {
    this.#dead.inc({topic});
  }

  stalled(topic: string): void {
    this.#stalled.inc({topic});
  }

  egressed(topic: string, n: number): void {
    this.#egressed.inc({topic}, n);
  }

  command(type: string, outcome: CommandOutcome): void {
    this.#commands.inc({type, outcome});
  }
}
