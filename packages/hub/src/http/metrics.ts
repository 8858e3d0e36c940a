import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client';
import type {EventObserver} from '../events/event-service.js';
import type {Backplane} from '../backplane/index.js';
import type {Hub} from '../hub/index.js';
import type {TopicLog} from '../log/async-topic-log.js';

/** The label value of every topic (or type) without a series of its own. */
export const OTHER_LABEL = '_other';

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /** Topics that get series of their own (only topics the log holds); the rest share `_other`. Default 1,000. */
  readonly maxTopicLabels?: number;
  /** Event types that get series of their own; the rest share `_other`. Default 1,000. */
  readonly maxTypeLabels?: number;
}

/**
 * Label values handed out first come, first served, up to a cap. Clients choose topic names and
 * (on topics that accept unknown types) event types, so each would otherwise be a new series.
 */
class LabelBudget {
  readonly #given = new Set<string>();
  constructor(readonly max: number) {}

  /** `value` if it has a series or may get one (`eligible` and under the cap), else `_other`. */
  label(value: string, eligible = true): string {
    if (this.#given.has(value)) return value;
    if (!eligible || this.#given.size >= this.max) return OTHER_LABEL;
    this.#given.add(value);
    return value;
  }
}

/**
 * The server's Prometheus metrics (`GET /metrics`): connections by transport, events in, out and
 * rejected per topic, replay sizes, events retained per topic, hub invocation errors, and Node's
 * process metrics. It observes the event service and wraps hub invocations in a filter. Topic
 * and type labels are bounded: only topics the log holds get a series (up to `maxTopicLabels`);
 * rejected publishes to unknown topics, and anything past the caps, count under `_other`.
 */
export class Metrics implements EventObserver {
  readonly registry = new Registry();
  readonly #in: Counter<'topic' | 'type'>;
  readonly #out: Counter<'topic'>;
  readonly #rejected: Counter<'topic'>;
  readonly #replay: Histogram<'topic'>;
  readonly #log: TopicLog;
  readonly #topics: LabelBudget;
  readonly #types: LabelBudget;

  constructor(hub: Hub, log: TopicLog, options: MetricsOptions = {}, backplane?: Backplane) {
    this.#log = log;
    this.#topics = new LabelBudget(options.maxTopicLabels ?? 1000);
    this.#types = new LabelBudget(options.maxTypeLabels ?? 1000);
    const topicLabel = (topic: string): string => this.#topic(topic);
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
          const folded = new Map<string, number>();
          for (const [topic, n] of sizes()) {
            const label = topicLabel(topic);
            folded.set(label, (folded.get(label) ?? 0) + n);
          }
          for (const [topic, n] of folded) this.set({topic}, n);
        },
      });
    }
    new Counter({
      name: 'switchboard_slow_consumer_disconnects_total',
      help: 'Connections cut off because their unsent bytes passed the bound (maxBufferedBytes).',
      registers,
      collect() {
        this.reset();
        this.inc(hub.slowConsumerDisconnects);
      },
    });
    new Gauge({
      name: 'switchboard_receive_paused_connections',
      help: 'Connections the hub is not reading now because their receive queue is full (receiveQueue.pauseBytes, pauseInvocations).',
      registers,
      collect() {
        this.set(hub.receivePausedConnections);
      },
    });
    new Counter({
      name: 'switchboard_receive_queue_overflows_total',
      help: 'Connections closed because they kept sending past their receive queue bound (receiveQueue.maxBytes).',
      registers,
      collect() {
        this.reset();
        this.inc(hub.receiveQueueOverflows);
      },
    });
    const stats = backplane?.stats?.bind(backplane);
    if (stats !== undefined) {
      new Gauge({
        name: 'switchboard_backplane_queued',
        help: 'Hub sends waiting for the backplane engine to be reachable again (the outbox).',
        registers,
        collect() {
          this.set(stats().queued);
        },
      });
      new Counter({
        name: 'switchboard_backplane_refused_total',
        help: 'Hub sends refused because the outbox was full while the backplane engine was unreachable.',
        registers,
        collect() {
          this.reset();
          this.inc(stats().refused);
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
    this.#in.inc({topic: this.#topic(topic), type: this.#types.label(type)});
  }

  delivered(topic: string, connections: number): void {
    if (connections > 0) this.#out.inc({topic: this.#topic(topic)}, connections);
  }

  rejected(topic: string): void {
    this.#rejected.inc({topic: this.#topic(topic)});
  }

  replayed(topic: string, events: number): void {
    this.#replay.observe({topic: this.#topic(topic)}, events);
  }

  /** The label of `topic`: its own only while the log holds it and the budget allows (logs without `has` count all as held). */
  #topic(topic: string): string {
    return this.#topics.label(topic, this.#log.has?.(topic) ?? true);
  }
}
