import type {Envelope} from '@switchboard/contracts';
import type {RedisConnection, RedisKeys, TopicLog} from '@switchboard/hub';
import type {Logger} from 'pino';
import type {ServiceHandler} from './service-runner';

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
export type RunHandlers = (service: string, event: Envelope, handlers: ReadonlyArray<ServiceHandler>) => Promise<void>;

export type {ServiceHandler} from './service-runner';

/** Resolves once the read models include the event at `epoch:seq` of `topic`; rejects when they do not in time. */
export type ReadModelsReached = (topic: string, epoch: string, seq: number) => Promise<void>;

/** A stream entry: its id and fields, or `null` fields when it was trimmed while pending. */
type Entry = [string, string[] | null];
/** XREADGROUP's reply: node-redis hands it over as an object keyed by stream (or, raw, as pairs). */
type StreamReply = Record<string, Array<Entry | null>> | Array<[string, Array<Entry | null>]> | null;

/** Entries per read or claim. */
const BATCH = 100;

/**
 * The shop's competing consumers: one Redis consumer group per service over the shop's topic
 * streams, so with N nodes every event reaches one instance of each service. An entry is
 * acknowledged (XACK) only after its handlers ran and what they published was stored; while Redis
 * is unreachable nothing is acknowledged, and the entries this node took but did not finish are
 * read again from its pending list after any failure or reconnect. Entries a dead node left pending
 * are taken over with XAUTOCLAIM; groups lost with their stream (Redis lost its data) are made
 * again. Reads run when the topic feed announces an append, and every second in case an
 * announcement was missed. Per service one read, claim or handling runs at a time.
 */
export class ConsumerGroups {
  readonly #s: ShopStreams;
  readonly #topics: readonly string[];
  readonly #streams: readonly string[];
  readonly #run: RunHandlers;
  readonly #logger: Logger;
  readonly #reached: ReadModelsReached;
  readonly #handlers = new Map<string, Map<string, ServiceHandler[]>>();
  readonly #busy = new Set<string>();
  readonly #again = new Set<string>();
  /** Services whose own pending entries are to be read again (at start, after a reconnect or a failure). */
  readonly #ownPending = new Set<string>();
  /** Services due to look for entries dead consumers left pending. */
  readonly #claimDue = new Set<string>();
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  #stopWatching: (() => void) | undefined;
  #closed = false;

  readonly #exclusive: ReadonlySet<string>;
  readonly #concurrent: ReadonlySet<string>;

  /**
   * `exclusive` services decide on state shared by all their events (inventory's stock): they run on
   * one node at a time, the holder of a lease in Redis, so two nodes never decide on stale copies.
   * `reached` holds an entry back until the read models include it (the services decide on them).
   * `concurrent` services handle the entries of a batch side by side (shipping, which waits).
   */
  constructor(
    streams: ShopStreams,
    topics: readonly string[],
    run: RunHandlers,
    logger: Logger,
    exclusive: ReadonlySet<string> = new Set(),
    reached: ReadModelsReached = async () => {},
    concurrent: ReadonlySet<string> = new Set(),
  ) {
    this.#concurrent = concurrent;
    this.#exclusive = exclusive;
    this.#s = streams;
    this.#topics = topics;
    this.#streams = topics.map((t) => streams.keys.stream(t));
    this.#run = run;
    this.#logger = logger;
    this.#reached = reached;
  }

  /** Adds a service's handler for one event type (call before {@link start}). */
  register(service: string, type: string, handler: ServiceHandler): void {
    let byType = this.#handlers.get(service);
    if (byType === undefined) this.#handlers.set(service, (byType = new Map()));
    const list = byType.get(type) ?? [];
    byType.set(type, [...list, handler]);
  }

  /** Creates the groups (from the start of each stream, on first use) and begins consuming. */
  async start(): Promise<void> {
    await this.#createGroups();
    const again = (pending: boolean) => {
      for (const service of this.#handlers.keys()) if (pending) this.#ownPending.add(service);
      this.#pollAll();
    };
    this.#stopWatching = this.#s.log.watch({topics: this.#topics, appended: () => again(false), resumed: () => again(true)});
    const claimEvery = Math.max(1000, (this.#s.claimIdleMs ?? 15_000) / 3);
    this.#timers.push(
      setInterval(() => this.#pollAll(), 1000),
      setInterval(() => {
        for (const service of this.#handlers.keys()) this.#claimDue.add(service);
        this.#pollAll();
      }, claimEvery),
    );
    for (const t of this.#timers) t.unref();
    for (const service of this.#handlers.keys()) {
      this.#ownPending.add(service);
      this.#claimDue.add(service);
    }
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

  async #createGroups(): Promise<void> {
    for (const service of this.#handlers.keys()) {
      for (const stream of this.#streams) {
        try {
          await this.#s.connection.command(['XGROUP', 'CREATE', stream, group(service), '0', 'MKSTREAM']);
        } catch (error) {
          if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
        }
      }
    }
  }

  #leaseKey(service: string): string {
    return `${this.#s.keys.prefix}:shop:lease:${service}`;
  }

  #pollAll(): void {
    for (const service of this.#handlers.keys()) void this.#work(service);
  }

  /** One round for a service: its own unfinished entries, then those of dead consumers (when due), then new ones. */
  async #work(service: string): Promise<void> {
    if (this.#closed) return;
    if (this.#busy.has(service)) {
      this.#again.add(service);
      return;
    }
    this.#busy.add(service);
    try {
      if (this.#exclusive.has(service) && !(await this.#lease(service))) return;
      if (this.#ownPending.delete(service)) {
        try {
          await this.#read(service, '0');
        } catch (error) {
          this.#ownPending.add(service);
          throw error;
        }
      }
      if (this.#claimDue.delete(service)) await this.#claim(service);
      await this.#read(service, '>');
    } catch (error) {
      // Whatever was taken and not finished stays pending: read it again on the next round.
      this.#ownPending.add(service);
      if (this.#closed) return;
      if (error instanceof Error && error.message.includes('NOGROUP')) {
        // The stream went with its groups (Redis lost its data): make them again, from what is there.
        this.#logger.warn({service}, 'consumer group missing (the stream was lost); creating it again');
        await this.#createGroups().catch(() => undefined);
      } else {
        this.#logger.warn({err: error, service}, 'consumer group round failed; retrying');
      }
    } finally {
      this.#busy.delete(service);
      if (this.#again.delete(service)) void this.#work(service);
    }
  }

  /** Reads and handles entries: new ones (`>`), or this consumer's own pending ones (`0`), in batches. */
  async #read(service: string, from: '>' | '0'): Promise<void> {
    const after: string[] = this.#streams.map(() => (from === '>' ? '>' : '0-0'));
    for (;;) {
      const reply = await this.#s.connection.command<StreamReply>([
        'XREADGROUP', 'GROUP', group(service), this.#s.node, 'COUNT', String(BATCH), 'STREAMS', ...this.#streams, ...after,
      ]);
      const streams = reply === null ? [] : Array.isArray(reply) ? reply : Object.entries(reply);
      let count = 0;
      for (const [stream, entries] of streams) {
        const live = entries.filter((e): e is Entry => e !== null);
        count += live.length;
        await this.#handleAll(service, stream, live);
        if (from === '0' && live.length > 0) after[this.#streams.indexOf(stream)] = live[live.length - 1]![0];
      }
      if (this.#closed || (from === '>' ? count < BATCH : count === 0)) return;
    }
  }

  /** Takes over entries pending longer than the claim idle time (their consumer died), and handles them. */
  async #claim(service: string): Promise<void> {
    const idle = String(this.#s.claimIdleMs ?? 15_000);
    for (const stream of this.#streams) {
      for (let cursor = '0-0'; ; ) {
        const [next, entries] = await this.#s.connection.command<[string, Array<Entry | null>]>([
          'XAUTOCLAIM', stream, group(service), this.#s.node, idle, cursor, 'COUNT', String(BATCH),
        ]);
        await this.#handleAll(service, stream, entries.filter((e): e is Entry => e !== null));
        if (next === '0-0' || this.#closed) break;
        cursor = next;
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

  /** Handles a stream's entries in order, each once the read models include it. */
  async #handleAll(service: string, stream: string, entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const topic = this.#topics[this.#streams.indexOf(stream)]!;
    // The stream's epoch tells its entries from those of a stream that was lost (same numbers, other events).
    const epoch = (await this.#s.connection.command<string | null>(['HGET', this.#s.keys.meta(topic), 'e'])) ?? '';
    if (this.#concurrent.has(service)) {
      const results = await Promise.allSettled(entries.map(([id, fields]) => this.#handle(service, topic, stream, epoch, id, fields)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return;
    }
    for (const [id, fields] of entries) {
      if (this.#closed) return;
      await this.#handle(service, topic, stream, epoch, id, fields);
    }
  }

  async #handle(service: string, topic: string, stream: string, epoch: string, id: string, fields: string[] | null): Promise<void> {
    const at = fields === null ? -1 : fields.indexOf('d');
    if (fields === null) this.#logger.warn({service, stream, id}, 'a pending entry was trimmed before it was handled');
    const event = at >= 0 ? (JSON.parse(fields![at + 1]!) as Envelope) : undefined;
    const handlers = event === undefined ? undefined : this.#handlers.get(service)?.get(event.type);
    if (event !== undefined && handlers !== undefined) {
      await this.#reached(topic, epoch, Number.parseInt(id, 10));
      await this.#run(service, event, handlers);
    }
    // Not acknowledged if Redis went away meanwhile: the entry stays pending and is handled again (idempotently).
    await this.#s.connection.command(['XACK', stream, group(service), id]);
  }
}

function group(service: string): string {
  return `service:${service}`;
}
