import {randomUUID} from 'node:crypto';
import type {Logger} from 'pino';
import type {Audience, Backplane, BackplaneMessage, BackplaneStats, RemoteInvoker, Scope} from '../../backplane/index.js';
import {TopicLogUnavailableError} from '../../log/async-topic-log.js';
import type {RedisKeys} from './keys.js';
import type {RedisConnection} from './redis-connection.js';

/** What travels on the hub channels. */
type Wire =
  | {readonly kind: 'send'; readonly message: BackplaneMessage}
  | {readonly kind: 'invoke'; readonly id: string; readonly replyTo: string; readonly connectionId: string; readonly target: string; readonly args: readonly unknown[]; readonly timeoutMs: number}
  | {readonly kind: 'result'; readonly id: string; readonly result?: unknown; readonly error?: string};

/** Bounds of the outbox that keeps hub sends while Redis is unreachable. */
export interface OutboxOptions {
  /** Sends kept at most; default 10,000. */
  readonly maxMessages?: number;
  /** Bytes (of serialized sends) kept at most; default 16 MB. */
  readonly maxBytes?: number;
  /**
   * After Redis is back, how long the flush waits at most for the other processes' subscribers to
   * reconnect (it waits until as many processes listen as before the outage); default 3 s.
   */
  readonly flushWaitMs?: number;
}

/** Options of {@link RedisBackplane}. */
export interface RedisBackplaneOptions {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  readonly outbox?: OutboxOptions;
}

/** One send waiting in the outbox. */
interface Parcel {
  readonly channel: string;
  readonly payload: string;
}

/**
 * The hub backplane on Redis pub/sub: every send goes to a channel named after its audience (all,
 * one group, one user, one connection, or several groups), as ASP.NET's `RedisChannels` does, and
 * each process subscribes only to the channels it holds members of (told by the hub through
 * {@link membership}), plus the all-channel, the several-groups channel and its own return
 * channel. Client results cross processes: the request goes to the connection's channel (nobody
 * subscribed: it fails at once), the process holding it invokes the client, and the answer comes
 * back on the requester's return channel.
 *
 * Unlike ASP.NET's, sends made while Redis is unreachable are not dropped: they wait in a bounded
 * outbox (refused, logged and counted past its bounds) and are published in order once Redis is
 * back and the other processes listen again. Topic events do not travel here: they come from the
 * topic log's own feed.
 */
export class RedisBackplane implements Backplane {
  /** This process's name on the return channel. */
  readonly node = randomUUID();
  readonly #redis: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #logger: Logger;
  readonly #receivers = new Set<(message: BackplaneMessage) => void>();
  readonly #pending = new Map<string, {resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout>}>();
  readonly #outbox: Parcel[] = [];
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #flushWaitMs: number;
  readonly #stopReady: () => void;
  #outboxBytes = 0;
  #flushing = false;
  #refused = 0;
  #lastRefusalLog = 0;
  /** How many processes listened on the all-channel when last asked: the flush waits for as many. */
  #peers = 1;
  #peerTimer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #invoke: RemoteInvoker | undefined;
  #closed = false;

  constructor(options: RedisBackplaneOptions) {
    this.#redis = options.connection;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#maxMessages = options.outbox?.maxMessages ?? 10_000;
    this.#maxBytes = options.outbox?.maxBytes ?? 16 * 1024 * 1024;
    this.#flushWaitMs = options.outbox?.flushWaitMs ?? 3000;
    for (const channel of [this.#keys.all, this.#keys.multi, this.#keys.returns(this.node)]) this.#listen(channel);
    this.#stopReady = this.#redis.onReady(() => void this.#flush());
  }

  /** Starts counting the processes on the backplane (the engine calls it once connected). */
  async started(): Promise<void> {
    await this.#countPeers();
    this.#peerTimer = setInterval(() => void this.#countPeers(), 5000);
    this.#peerTimer.unref();
  }

  publish(message: BackplaneMessage): void {
    for (const parcel of this.#parcels(message)) this.#post(parcel);
  }

  subscribe(receive: (message: BackplaneMessage) => void): () => void {
    this.#receivers.add(receive);
    return () => this.#receivers.delete(receive);
  }

  membership(scope: Scope, present: boolean): void {
    const channel = scope.kind === 'connection' ? this.#keys.connection(scope.name) : scope.kind === 'group' ? this.#keys.group(scope.name) : this.#keys.user(scope.name);
    if (present) this.#listen(channel);
    else void this.#redis.unsubscribe(channel, this.#hear);
  }

  stats(): BackplaneStats {
    return {queued: this.#outbox.length, refused: this.#refused};
  }

  invokeRemote(connectionId: string, target: string, args: readonly unknown[], timeoutMs: number): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Connection '${connectionId}' did not answer '${target}' within ${timeoutMs} ms.`));
      }, timeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      };
      this.#pending.set(id, {resolve, reject, timer});
      const wire: Wire = {kind: 'invoke', id, replyTo: this.node, connectionId, target, args, timeoutMs};
      this.#redis.publish(this.#keys.connection(connectionId), JSON.stringify(wire)).then(
        // Each process listens on the channels of its own connections only: nobody heard it, nobody holds it.
        (receivers) => receivers === 0 && fail(new Error(`Connection '${connectionId}' is not connected to any hub process.`)),
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  serveInvocations(invoke: RemoteInvoker): () => void {
    this.#invoke = invoke;
    return () => (this.#invoke = undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopReady();
    clearInterval(this.#peerTimer);
    clearTimeout(this.#retry);
    this.#receivers.clear();
    for (const {reject, timer} of this.#pending.values()) {
      clearTimeout(timer);
      reject(new Error('The backplane closed.'));
    }
    this.#pending.clear();
    if (this.#outbox.length > 0) this.#logger.warn({dropped: this.#outbox.length}, 'hub sends still waiting for Redis were dropped at close');
    this.#outbox.length = 0;
  }

  /** The channels and payloads a send travels as: one per user or connection, so each reaches only its holder. */
  #parcels(message: BackplaneMessage): Parcel[] {
    const {audience} = message;
    const one = (channel: string, a: Audience = audience): Parcel => ({channel, payload: JSON.stringify({kind: 'send', message: {...message, audience: a}} satisfies Wire)});
    switch (audience.kind) {
      case 'all':
        return [one(this.#keys.all)];
      case 'groups':
        // Several groups go on one channel every process hears, so a member of two receives it once.
        return [one(audience.names.length === 1 ? this.#keys.group(audience.names[0]!) : this.#keys.multi)];
      case 'users':
        return audience.ids.map((id) => one(this.#keys.user(id), {kind: 'users', ids: [id]}));
      case 'connections':
        return audience.ids.map((id) => one(this.#keys.connection(id), {kind: 'connections', ids: [id]}));
    }
  }

  /** Publishes a send, or keeps it in the outbox while Redis is unreachable (or earlier sends wait there). */
  #post(parcel: Parcel): void {
    if (this.#outbox.length > 0 || this.#flushing || !this.#redis.isReady) {
      this.#keep(parcel);
      return;
    }
    this.#redis.publish(parcel.channel, parcel.payload).catch((error: unknown) => {
      if (error instanceof TopicLogUnavailableError) this.#keep(parcel);
      else this.#logger.warn({err: error, channel: parcel.channel}, 'hub send not delivered');
    });
  }

  #keep(parcel: Parcel): void {
    if (this.#closed) return;
    if (this.#outbox.length >= this.#maxMessages || this.#outboxBytes + parcel.payload.length > this.#maxBytes) {
      this.#refused++;
      const now = Date.now();
      if (now - this.#lastRefusalLog >= 1000) {
        this.#lastRefusalLog = now;
        this.#logger.warn(
          {channel: parcel.channel, queued: this.#outbox.length, bytes: this.#outboxBytes, refused: this.#refused},
          'hub send refused: Redis is unreachable and the outbox is full (options outbox.maxMessages, outbox.maxBytes)',
        );
      }
      return;
    }
    if (this.#outbox.length === 0) this.#logger.warn('Redis is unreachable: hub sends wait in the outbox until it is back');
    this.#outbox.push(parcel);
    this.#outboxBytes += parcel.payload.length;
    // A reconnect flushes; so does this, should the send have failed with Redis still connected (a timeout).
    this.#flushSoon(200);
  }

  #flushSoon(delayMs: number): void {
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#redis.isReady) void this.#flush();
    }, delayMs);
    this.#retry.unref();
  }

  /**
   * Publishes the outbox in order once Redis is back: first waits (up to `flushWaitMs`) until as
   * many processes listen on the all-channel as before the outage, since pub/sub keeps nothing for
   * a subscriber that has not reconnected yet. Stops at the first failure and waits for the next
   * reconnect.
   */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#outbox.length === 0) return;
    this.#flushing = true;
    try {
      const deadline = Date.now() + this.#flushWaitMs;
      while (Date.now() < deadline && !this.#closed) {
        const listening = await this.#listening().catch(() => 0);
        if (listening >= this.#peers) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      let sent = 0;
      while (this.#outbox.length > 0 && !this.#closed) {
        // A batch at a time, pipelined on the one command connection, so order is kept.
        const batch = this.#outbox.slice(0, 100);
        const results = await Promise.allSettled(batch.map((p) => this.#redis.publish(p.channel, p.payload)));
        // Keep only what could not reach Redis (in order, in front); what Redis itself refused is dropped.
        const again: Parcel[] = [];
        let error: unknown;
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') sent++;
          else if (r.reason instanceof TopicLogUnavailableError) {
            again.push(batch[i]!);
            error ??= r.reason;
          } else this.#logger.warn({err: r.reason, channel: batch[i]!.channel}, 'hub send not delivered');
        });
        for (const p of this.#outbox.splice(0, batch.length, ...again)) this.#outboxBytes -= p.payload.length;
        for (const p of again) this.#outboxBytes += p.payload.length;
        if (again.length > 0) {
          this.#logger.warn({err: error, left: this.#outbox.length}, 'outbox flush interrupted; resuming when Redis is back');
          return;
        }
      }
      if (sent > 0) this.#logger.info({sent}, 'outbox flushed: hub sends made while Redis was unreachable are delivered');
    } finally {
      this.#flushing = false;
      if (this.#outbox.length > 0) this.#flushSoon(1000);
    }
  }

  async #listening(): Promise<number> {
    const reply = await this.#redis.command<Array<string | number>>(['PUBSUB', 'NUMSUB', this.#keys.all]);
    return Number(reply[1] ?? 0);
  }

  async #countPeers(): Promise<void> {
    try {
      if (this.#redis.isReady && this.#outbox.length === 0) this.#peers = Math.max(1, await this.#listening());
    } catch {
      // Unreachable: keep the last count.
    }
  }

  #listen(channel: string): void {
    this.#redis.subscribe(channel, this.#hear).catch((error: unknown) =>
      this.#logger.debug({err: error, channel}, 'channel not subscribed yet: subscribing when Redis is back'),
    );
  }

  readonly #hear = (raw: string, channel: string): void => {
    let wire: Wire;
    try {
      wire = JSON.parse(raw) as Wire;
    } catch {
      this.#logger.warn({channel}, 'unreadable backplane message');
      return;
    }
    if (wire.kind === 'send') {
      for (const receive of this.#receivers) receive(wire.message);
    } else if (wire.kind === 'invoke') {
      // Only the holder listens on a connection's channel, or one that just lost it: then say so at once.
      const running =
        this.#invoke?.(wire.connectionId, wire.target, wire.args, wire.timeoutMs) ??
        Promise.reject(new Error(`Connection '${wire.connectionId}' is not connected to any hub process.`));
      const reply = (outcome: {result: unknown} | {error: string}) =>
        this.#redis.publish(this.#keys.returns(wire.replyTo), JSON.stringify({kind: 'result', id: wire.id, ...outcome} satisfies Wire)).catch((error: unknown) =>
          this.#logger.warn({err: error}, 'client result not returned: Redis is unreachable'),
        );
      running.then(
        (result) => reply({result: result ?? null}),
        (error: unknown) => reply({error: error instanceof Error ? error.message : String(error)}),
      );
    } else if (wire.kind === 'result' && channel === this.#keys.returns(this.node)) {
      const pending = this.#pending.get(wire.id);
      if (pending === undefined) return;
      this.#pending.delete(wire.id);
      clearTimeout(pending.timer);
      if (wire.error !== undefined) pending.reject(new Error(wire.error));
      else pending.resolve(wire.result);
    }
  };
}
