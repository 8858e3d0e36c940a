import type {Envelope} from '@switchboard/contracts';
import type {RedisConnection, RedisKeys, TopicLog} from '@switchboard/hub';
import type {Logger} from 'pino';

/** Where the shop's services consume from when it runs on Redis. */
export interface ShopStreams {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  /** The topic log on the same Redis: its feed says when to read, and rebuilds read models. */
  readonly log: TopicLog;
  /** This node's consumer name; unique per running node. */
  readonly node: string;
  /** A pending entry idle this long is taken over from its (presumably dead) consumer; default 15 s. */
  readonly claimIdleMs?: number;
}

/** How long a node holds an exclusive service's lease without renewing it. */
const LEASE_MS = 5000;

/** Runs a service's handlers for one event (with retries and dead letters); resolves when done. */
export type ServiceRunner = (service: string, event: Envelope, handlers: ReadonlyArray<(e: Envelope) => void>) => Promise<void>;

type Entries = Array<[string, string[]] | null>;
/** XREADGROUP's reply: node-redis hands it over as an object keyed by stream (or, raw, as pairs). */
type StreamReply = Record<string, Entries> | Array<[string, Entries]> | null;

/**
 * The shop's competing consumers: one Redis consumer group per service over the shop's topic
 * streams, so with N nodes every event reaches one instance of each service. An entry is
 * acknowledged (XACK) only after its handlers ran and what they published was stored; entries a
 * dead node left pending are taken over with XAUTOCLAIM. Reads run when the topic feed announces
 * an append, and every second in case an announcement was missed.
 */
export class ConsumerGroups {
  readonly #s: ShopStreams;
  readonly #streams: readonly string[];
  readonly #run: ServiceRunner;
  readonly #logger: Logger;
  readonly #handlers = new Map<string, Map<string, Array<(e: Envelope) => void>>>();
  readonly #busy = new Set<string>();
  readonly #again = new Set<string>();
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  #stopWatching: (() => void) | undefined;
  #closed = false;

  readonly #exclusive: ReadonlySet<string>;

  /**
   * `exclusive` services decide on state shared by all their events (inventory's stock): they run on
   * one node at a time, the holder of a lease in Redis, so two nodes never decide on stale copies.
   */
  constructor(streams: ShopStreams, topics: readonly string[], run: ServiceRunner, logger: Logger, exclusive: ReadonlySet<string> = new Set()) {
    this.#exclusive = exclusive;
    this.#s = streams;
    this.#streams = topics.map((t) => streams.keys.stream(t));
    this.#run = run;
    this.#logger = logger;
  }

  /** Adds a service's handler for one event type (call before {@link start}). */
  register(service: string, type: string, handler: (e: Envelope) => void): void {
    let byType = this.#handlers.get(service);
    if (byType === undefined) this.#handlers.set(service, (byType = new Map()));
    const list = byType.get(type) ?? [];
    byType.set(type, [...list, handler]);
  }

  /** Creates the groups (from the start of each stream, on first use) and begins consuming. */
  async start(): Promise<void> {
    for (const service of this.#handlers.keys()) {
      for (const stream of this.#streams) {
        try {
          await this.#s.connection.command(['XGROUP', 'CREATE', stream, group(service), '0', 'MKSTREAM']);
        } catch (error) {
          if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
        }
      }
    }
    this.#stopWatching = this.#s.log.watch({appended: () => this.#pollAll(), resumed: () => this.#pollAll()});
    this.#timers.push(setInterval(() => this.#pollAll(), 1000), setInterval(() => void this.#claimAll(), Math.max(1000, (this.#s.claimIdleMs ?? 15_000) / 3)));
    for (const t of this.#timers) t.unref();
    await this.#claimAll();
    this.#pollAll();
  }

  /** Stops consuming; entries being handled finish, the rest stay pending for another node. */
  close(): void {
    this.#closed = true;
    this.#stopWatching?.();
    for (const t of this.#timers) clearInterval(t);
    // Hand exclusive services over at once rather than after the lease runs out.
    for (const service of this.#exclusive) {
      void this.#s.connection
        .script("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", [this.#leaseKey(service)], [this.#s.node])
        .catch(() => undefined);
    }
  }

  #leaseKey(service: string): string {
    return `${this.#s.keys.prefix}:shop:lease:${service}`;
  }

  #pollAll(): void {
    for (const service of this.#handlers.keys()) void this.#poll(service);
  }

  async #poll(service: string): Promise<void> {
    if (this.#closed) return;
    if (this.#busy.has(service)) {
      this.#again.add(service);
      return;
    }
    this.#busy.add(service);
    try {
      if (this.#exclusive.has(service) && !(await this.#lease(service))) return;
      for (;;) {
        const reply = await this.#s.connection.command<StreamReply>([
          'XREADGROUP', 'GROUP', group(service), this.#s.node, 'COUNT', '100', 'STREAMS', ...this.#streams, ...this.#streams.map(() => '>'),
        ]);
        let count = 0;
        const streams = reply === null ? [] : Array.isArray(reply) ? reply : Object.entries(reply);
        for (const [stream, entries] of streams) {
          for (const entry of entries) {
            count++;
            if (entry !== null) await this.#handle(service, stream, entry[0], entry[1]);
          }
        }
        if (count < 100 || this.#closed) break;
      }
    } catch (error) {
      this.#logger.warn({err: error, service}, 'consumer group read failed; retrying');
    } finally {
      this.#busy.delete(service);
      if (this.#again.delete(service)) void this.#poll(service);
    }
  }

  /** Takes over entries pending longer than the claim idle time (their consumer died), and handles them. */
  async #claimAll(): Promise<void> {
    const idle = String(this.#s.claimIdleMs ?? 15_000);
    for (const service of this.#handlers.keys()) {
      if (this.#exclusive.has(service) && !(await this.#lease(service).catch(() => false))) continue;
      for (const stream of this.#streams) {
        try {
          const [, entries] = await this.#s.connection.command<[string, Array<[string, string[]] | null>]>([
            'XAUTOCLAIM', stream, group(service), this.#s.node, idle, '0-0', 'COUNT', '100',
          ]);
          for (const entry of entries) if (entry !== null) await this.#handle(service, stream, entry[0], entry[1]);
        } catch (error) {
          if (!this.#closed) this.#logger.warn({err: error, service}, 'claiming pending entries failed; retrying');
        }
      }
    }
  }

  /** Takes or renews the service's lease; true when this node holds it. */
  async #lease(service: string): Promise<boolean> {
    const key = this.#leaseKey(service);
    const got = await this.#s.connection.command<string | null>(['SET', key, this.#s.node, 'NX', 'PX', String(LEASE_MS)]);
    if (got === 'OK') return true;
    // Renew only our own lease, atomically.
    const renewed = await this.#s.connection.script<number>(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
      [key],
      [this.#s.node, String(LEASE_MS)],
    );
    return renewed === 1;
  }

  async #handle(service: string, stream: string, id: string, fields: string[]): Promise<void> {
    const at = fields.indexOf('d');
    const event = at >= 0 ? (JSON.parse(fields[at + 1]!) as Envelope) : undefined;
    const handlers = event === undefined ? undefined : this.#handlers.get(service)?.get(event.type);
    if (event !== undefined && handlers !== undefined) await this.#run(service, event, handlers);
    // Not acknowledged if Redis went away meanwhile: the entry stays pending and is handled again (idempotently).
    await this.#s.connection.command(['XACK', stream, group(service), id]);
  }
}

function group(service: string): string {
  return `service:${service}`;
}
