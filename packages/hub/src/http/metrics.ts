import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client';
import type {EventObserver} from '../events/event-service.js';
import type {Hub} from '../hub/index.js';
import type {TopicLog} from '../log/async-topic-log.js';

/**
 * The server's Prometheus metrics (`GET /metrics`): connections by transport, events in, out and
 * rejected per topic, replay sizes, events retained per topic, hub invocation errors, and Node's
 * process metrics. It observes the event service and wraps hub invocations in a filter.
 */
export class Metrics implements EventObserver {
  readonly registry = new Registry();
  readonly #in: Counter<'topic' | 'type'>;
  readonly #out: Counter<'topic'>;
  readonly #rejected: Counter<'topic'>;
  readonly #replay: Histogram<'topic'>;

  constructor(hub: Hub, log: TopicLog) {
    const registers = [this.registry];
    collectDefaultMetrics({register: this.registry, prefix: 'switchboard_'});
    new Gauge({
      name: 'switchboard_connections',
      help: 'Open hub connections, by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        for (const [transport, n] of Object.entries(hub.connectionsByTransport())) this.set({transport}, n);
      },
    });
    this.#in = new Counter({name: 'switchboard_events_in_total', help: 'Events accepted into a topic.', labelNames: ['topic', 'type'], registers});
    this.#out = new Counter({name: 'switchboard_events_out_total', help: 'Event deliveries pushed to connections.', labelNames: ['topic'], registers});
    this.#rejected = new Counter({name: 'switchboard_events_rejected_total', help: 'Publishes refused as invalid.', labelNames: ['topic'], registers});
    this.#replay = new Histogram({
      name: 'switchboard_replay_events',
      help: 'Events replayed to a client on subscribe with an offset.',
      labelNames: ['topic'],
      buckets: [0, 1, 10, 100, 1000, 10_000],
      registers,
    });
    if (log.sizes !== undefined) {
      const sizes = log.sizes.bind(log);
      new Gauge({
        name: 'switchboard_log_retained_events',
        help: 'Events retained per topic.',
        labelNames: ['topic'],
        registers,
        collect() {
          this.reset();
          for (const [topic, n] of sizes()) this.set({topic}, n);
        },
      });
    }
    const errors = new Counter({name: 'switchboard_invocation_errors_total', help: 'Hub invocations that failed.', labelNames: ['method'], registers});
    hub.use(async ({context}, next) => {
      try {
        return await next();
      } catch (error) {
        errors.inc({method: context.method});
        throw error;
      }
    });
  }

  published(topic: string, type: string): void {
    this.#in.inc({topic, type});
  }

  delivered(topic: string, connections: number): void {
    if (connections > 0) this.#out.inc({topic}, connections);
  }

  rejected(topic: string): void {
    this.#rejected.inc({topic});
  }

  replayed(topic: string, events: number): void {
    this.#replay.observe({topic}, events);
  }
}
