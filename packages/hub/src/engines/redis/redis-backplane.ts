import {randomUUID} from 'node:crypto';
import type {Logger} from 'pino';
import type {Audience, Backplane, BackplaneMessage, RemoteInvoker} from '../../backplane/index.js';
import type {RedisKeys} from './keys.js';
import type {RedisConnection} from './redis-connection.js';

/** What travels on the hub channels. */
type Wire =
  | {readonly kind: 'send'; readonly message: BackplaneMessage}
  | {readonly kind: 'invoke'; readonly id: string; readonly replyTo: string; readonly connectionId: string; readonly target: string; readonly args: readonly unknown[]; readonly timeoutMs: number}
  | {readonly kind: 'result'; readonly id: string; readonly result?: unknown; readonly error?: string};

/** Options of {@link RedisBackplane}. */
export interface RedisBackplaneOptions {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
}

/**
 * The hub backplane on Redis pub/sub: every send goes to a channel named after its audience (all,
 * one group, one user, one connection, or several), as ASP.NET's `RedisChannels` does, and every
 * process delivers what it receives to its own connections. Client results cross processes: the
 * request goes to the connection's channel, the process holding it invokes the client, and the
 * answer comes back on the requester's return channel.
 *
 * Sends are fire-and-forget, like ASP.NET's: while Redis is unreachable they are logged and
 * dropped. Topic events do not travel here: they come from the topic log's own feed.
 */
export class RedisBackplane implements Backplane {
  /** This process's name on the return channel. */
  readonly node = randomUUID();
  readonly #redis: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #logger: Logger;
  readonly #receivers = new Set<(message: BackplaneMessage) => void>();
  readonly #pending = new Map<string, {resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout>}>();
  #invoke: RemoteInvoker | undefined;

  constructor(options: RedisBackplaneOptions) {
    this.#redis = options.connection;
    this.#keys = options.keys;
    this.#logger = options.logger;
    void this.#redis.listen(this.#keys.hubPattern, (raw, channel) => this.#received(raw, channel));
  }

  publish(message: BackplaneMessage): void {
    this.#send(this.#channel(message.audience), {kind: 'send', message}).catch((error: unknown) => {
      this.#logger.warn({err: error, target: message.target, audience: message.audience.kind}, 'hub send not delivered: Redis is unreachable');
    });
  }

  subscribe(receive: (message: BackplaneMessage) => void): () => void {
    this.#receivers.add(receive);
    return () => this.#receivers.delete(receive);
  }

  invokeRemote(connectionId: string, target: string, args: readonly unknown[], timeoutMs: number): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Connection '${connectionId}' did not answer '${target}' in time (no hub process holds it, or the client was slow).`));
      }, timeoutMs);
      this.#pending.set(id, {resolve, reject, timer});
      this.#send(this.#keys.connection(connectionId), {kind: 'invoke', id, replyTo: this.node, connectionId, target, args, timeoutMs}).catch((error: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  serveInvocations(invoke: RemoteInvoker): () => void {
    this.#invoke = invoke;
    return () => (this.#invoke = undefined);
  }

  async close(): Promise<void> {
    this.#receivers.clear();
    for (const {reject, timer} of this.#pending.values()) {
      clearTimeout(timer);
      reject(new Error('The backplane closed.'));
    }
    this.#pending.clear();
  }

  #channel(audience: Audience): string {
    switch (audience.kind) {
      case 'all':
        return this.#keys.all;
      case 'groups':
        return audience.names.length === 1 ? this.#keys.group(audience.names[0]!) : this.#keys.multi;
      case 'users':
        return audience.ids.length === 1 ? this.#keys.user(audience.ids[0]!) : this.#keys.multi;
      case 'connections':
        return audience.ids.length === 1 ? this.#keys.connection(audience.ids[0]!) : this.#keys.multi;
    }
  }

  async #send(channel: string, wire: Wire): Promise<void> {
    await this.#redis.publish(channel, JSON.stringify(wire));
  }

  #received(raw: string, channel: string): void {
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
      const running = this.#invoke?.(wire.connectionId, wire.target, wire.args, wire.timeoutMs);
      if (running === undefined) return;
      const reply = (outcome: {result: unknown} | {error: string}) =>
        this.#send(this.#keys.returns(wire.replyTo), {kind: 'result', id: wire.id, ...outcome}).catch((error: unknown) =>
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
  }
}
