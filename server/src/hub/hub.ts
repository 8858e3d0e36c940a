import type {Logger} from 'pino';
import {pino} from 'pino';
import type {z} from 'zod';
import {
  jsonHubProtocol,
  MessageType,
  parseHandshake,
  ProtocolError,
  writeHandshakeResponse,
  type HubMessage,
  type HubProtocol,
  type InvocationMessage,
} from '../protocol';
import type {ConnectionHandler, ConnectionSink, TransportConnection} from '../transports/transport-connection';
import {HubConnection} from './hub-connection';
import {HubError} from './hub-error';

/** The parameters of a hub method, in call order: name → schema. */
export type HubParams = Readonly<Record<string, z.ZodType>>;

/** The parsed arguments of a hub method, by parameter name. */
export type HubArgs<P extends HubParams> = {[K in keyof P]: z.output<P[K]>};

/** What a hub method's handler gets besides its arguments. */
export interface InvocationContext {
  readonly hub: Hub;
  /** The calling connection. */
  readonly caller: HubConnection;
}

/** A hub method: its parameters (validated before the handler runs) and its handler. */
export interface HubMethod<P extends HubParams> {
  readonly params: P;
  /** Returns the invocation's result (awaited); throw {@link HubError} to fail it with a message. */
  readonly handler: (args: HubArgs<P>, context: InvocationContext) => unknown;
}

/** Options of {@link Hub}; the defaults are ASP.NET Core SignalR's. */
export interface HubOptions {
  /** Hub protocols offered; default JSON. */
  readonly protocols?: readonly HubProtocol[];
  /** Send a Ping after this long without sending anything; default 15 s. */
  readonly keepAliveIntervalMs?: number;
  /** Close a connection that sent nothing for this long; default 30 s. */
  readonly clientTimeoutMs?: number;
  /** Close a connection that sent no handshake within this long; default 15 s. */
  readonly handshakeTimeoutMs?: number;
  /** Largest transport message accepted, in bytes; default 32 KB. */
  readonly maximumReceiveMessageSize?: number;
  readonly logger?: Logger;
  /** Called once a connection completed its handshake. */
  readonly onConnected?: (connection: HubConnection) => void;
  /** Called once a connection that completed its handshake is gone. */
  readonly onDisconnected?: (connection: HubConnection, error?: Error) => void;
}

interface RegisteredMethod {
  readonly name: string;
  readonly params: HubParams;
  readonly names: readonly string[];
  readonly handler: (args: Record<string, unknown>, context: InvocationContext) => unknown;
}

/** Sends one invocation to a set of connections. */
export interface ClientProxy {
  /** Invokes `target` on every connection of the set (fire-and-forget); returns how many got it. */
  send(target: string, ...args: unknown[]): number;
}

/**
 * A SignalR hub: the logic between parsed messages and hub methods. It completes handshakes,
 * dispatches invocations to methods registered with zod parameter schemas, keeps connections alive,
 * and sends to connections and groups, serializing a broadcast once per protocol rather than once
 * per client.
 *
 * ```ts
 * const hub = new Hub();
 * hub.method('echo', {params: {text: z.string()}, handler: ({text}) => text});
 * ```
 */
export class Hub implements ConnectionHandler {
  readonly logger: Logger;
  readonly #protocols: ReadonlyMap<string, HubProtocol>;
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #connections = new Map<string, HubConnection>();
  readonly #groups = new Map<string, Set<HubConnection>>();
  /** Per connection, the invocation running now: ASP.NET's default of one at a time per client. */
  readonly #queues = new WeakMap<HubConnection, Promise<void>>();
  readonly #options: Required<Omit<HubOptions, 'protocols' | 'logger' | 'onConnected' | 'onDisconnected'>>;
  readonly #onConnected: HubOptions['onConnected'];
  readonly #onDisconnected: HubOptions['onDisconnected'];
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: HubOptions = {}) {
    this.logger = options.logger ?? pino({level: 'info'});
    this.#protocols = new Map((options.protocols ?? [jsonHubProtocol]).map((p) => [p.name, p]));
    this.#options = {
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 15_000,
      clientTimeoutMs: options.clientTimeoutMs ?? 30_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 15_000,
      maximumReceiveMessageSize: options.maximumReceiveMessageSize ?? 32 * 1024,
    };
    this.#onConnected = options.onConnected;
    this.#onDisconnected = options.onDisconnected;
  }

  /** Registers a hub method; names match case-insensitively, as in ASP.NET. */
  method<P extends HubParams>(name: string, method: HubMethod<P>): this {
    const key = name.toLowerCase();
    if (this.#methods.has(key)) throw new Error(`Hub method '${name}' is already registered`);
    this.#methods.set(key, {
      name,
      params: method.params,
      names: Object.keys(method.params),
      handler: method.handler as RegisteredMethod['handler'],
    });
    return this;
  }

  /** Connections that completed their handshake. */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.#connections.values()) if (c.phase === 'open') n++;
    return n;
  }

  /** Every open connection. */
  get all(): ClientProxy {
    return this.#proxy(() => this.#connections.values());
  }

  /** The connections in `group`. */
  group(group: string): ClientProxy {
    return this.#proxy(() => this.#groups.get(group) ?? []);
  }

  /** One connection. */
  connection(connectionId: string): ClientProxy {
    return this.#proxy(() => {
      const c = this.#connections.get(connectionId);
      return c === undefined ? [] : [c];
    });
  }

  /** Adds a connection to a group (a no-op when it is already in it). */
  addToGroup(connection: HubConnection, group: string): void {
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Set()));
    members.add(connection);
    connection.groups.add(group);
  }

  /** Removes a connection from a group. */
  removeFromGroup(connection: HubConnection, group: string): void {
    const members = this.#groups.get(group);
    members?.delete(connection);
    if (members?.size === 0) this.#groups.delete(group);
    connection.groups.delete(group);
  }

  /** How many connections are in `group`. */
  groupSize(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }

  /** Starts serving a connection a transport accepted. */
  connect(transport: TransportConnection): ConnectionSink {
    const connection = new HubConnection(transport, Date.now());
    this.#connections.set(connection.connectionId, connection);
    this.#startHeartbeat();
    return {
      receive: (data) => this.#receive(connection, data),
      closed: (error) => this.#closed(connection, error),
    };
  }

  /** Closes every connection (sending Close first) and stops the heartbeat. */
  close(): void {
    for (const connection of this.#connections.values()) this.closeConnection(connection);
    this.#stopHeartbeat();
  }

  /**
   * Closes one connection: sends Close (with `error` if given, and `allowReconnect` to invite the
   * client to reconnect), then ends its transport.
   */
  closeConnection(connection: HubConnection, error?: string, allowReconnect = false): void {
    if (connection.phase === 'open') {
      connection.send({
        type: MessageType.Close,
        ...(error === undefined ? {} : {error}),
        ...(allowReconnect ? {allowReconnect} : {}),
      });
    } else if (connection.phase === 'handshake' && error !== undefined) {
      connection.sendHandshake(new TextEncoder().encode(writeHandshakeResponse(error)));
    }
    connection.closeTransport();
  }

  #proxy(targets: () => Iterable<HubConnection>): ClientProxy {
    return {send: (target, ...args) => this.#broadcast(targets(), {type: MessageType.Invocation, target, arguments: args})};
  }

  #broadcast(targets: Iterable<HubConnection>, message: HubMessage): number {
    const serialized = new Map<HubProtocol, Uint8Array>();
    let sent = 0;
    for (const c of targets) {
      if (c.phase !== 'open' || c.protocol === undefined) continue;
      let payload = serialized.get(c.protocol);
      if (payload === undefined) serialized.set(c.protocol, (payload = c.protocol.writeMessage(message)));
      c.sendSerialized(payload);
      sent++;
    }
    return sent;
  }

  #receive(connection: HubConnection, data: string | Uint8Array): void {
    if (connection.phase === 'closed') return;
    connection.lastReceivedAt = Date.now();
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (size > this.#options.maximumReceiveMessageSize) {
      this.#fail(connection, `The maximum message size of ${this.#options.maximumReceiveMessageSize}B was exceeded.`);
      return;
    }
    let rest: string | Uint8Array = data;
    if (connection.phase === 'handshake') {
      const after = this.#handshake(connection, data);
      if (after === undefined) return;
      rest = after;
      if (rest.length === 0) return;
    }
    let messages: HubMessage[];
    try {
      messages = connection.protocol!.parseMessages(rest);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(connection, `Connection closed with an error. ${error.message}`);
      return;
    }
    for (const message of messages) this.#handle(connection, message);
  }

  /** Completes the handshake; returns what followed it, or undefined when the connection was refused. */
  #handshake(connection: HubConnection, data: string | Uint8Array): string | Uint8Array | undefined {
    let request;
    let rest;
    try {
      ({request, rest} = parseHandshake(data));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(connection, error.message);
      return undefined;
    }
    const protocol = this.#protocols.get(request.protocol);
    if (protocol === undefined) {
      this.#fail(connection, `The protocol '${request.protocol}' is not supported.`);
      return undefined;
    }
    if (request.version < 1 || request.version > protocol.version) {
      this.#fail(connection, `The server does not support version ${request.version} of the '${protocol.name}' protocol.`);
      return undefined;
    }
    connection.protocol = protocol;
    connection.sendHandshake(new TextEncoder().encode(writeHandshakeResponse()));
    connection.phase = 'open';
    this.logger.debug({connectionId: connection.connectionId, transport: connection.transport, protocol: protocol.name}, 'connected');
    this.#onConnected?.(connection);
    return rest;
  }

  #handle(connection: HubConnection, message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation: {
        const previous = this.#queues.get(connection) ?? Promise.resolve();
        const next = previous
          .then(() => this.#invoke(connection, message))
          .catch((error: unknown) => this.logger.error({err: error, connectionId: connection.connectionId}, 'invocation failed'));
        this.#queues.set(connection, next);
        return;
      }
      case MessageType.StreamInvocation:
        connection.send({
          type: MessageType.Completion,
          invocationId: message.invocationId,
          error: `Streaming method '${message.target}' does not exist.`,
        });
        return;
      case MessageType.Close:
        connection.closeTransport();
        return;
      default:
        // Ping only refreshes lastReceivedAt (done above). Stream items, completions, cancellations
        // and stateful-reconnect acks have nothing to act on yet.
        return;
    }
  }

  async #invoke(connection: HubConnection, message: InvocationMessage): Promise<void> {
    const {invocationId, target} = message;
    const reply = (outcome: {error: string} | {result: unknown}): void => {
      if (invocationId !== undefined) connection.send({type: MessageType.Completion, invocationId, ...outcome});
    };
    const method = this.#methods.get(target.toLowerCase());
    if (method === undefined) return reply({error: `Unknown hub method '${target}'.`});
    const args = parseArguments(method, message.arguments);
    if ('error' in args) return reply(args);
    try {
      const result = await method.handler(args.value, {hub: this, caller: connection});
      reply({result: result ?? null});
    } catch (error) {
      if (error instanceof HubError) return reply({error: error.message});
      this.logger.error({err: error, connectionId: connection.connectionId, target: method.name}, 'hub method failed');
      reply({error: `An unexpected error occurred invoking '${method.name}' on the server.`});
    }
  }

  #fail(connection: HubConnection, error: string): void {
    this.logger.warn({connectionId: connection.connectionId, error}, 'closing connection');
    this.closeConnection(connection, error);
  }

  #closed(connection: HubConnection, error?: Error): void {
    const wasOpen = connection.phase === 'open';
    connection.phase = 'closed';
    this.#connections.delete(connection.connectionId);
    for (const group of [...connection.groups]) this.removeFromGroup(connection, group);
    if (this.#connections.size === 0) this.#stopHeartbeat();
    if (wasOpen) this.#onDisconnected?.(connection, error);
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const {keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs} = this.#options;
    const tick = Math.max(10, Math.min(1000, keepAliveIntervalMs / 2, clientTimeoutMs / 4, handshakeTimeoutMs / 4));
    this.#heartbeat = setInterval(() => this.#beat(Date.now()), tick);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** One sweep over all connections: one timer for the hub rather than several per connection. */
  #beat(now: number): void {
    const {handshakeTimeoutMs, keepAliveIntervalMs, clientTimeoutMs} = this.#options;
    for (const c of this.#connections.values()) {
      if (c.phase === 'handshake') {
        if (now - c.openedAt > handshakeTimeoutMs) this.#fail(c, 'Handshake was canceled: no handshake within the timeout.');
      } else if (c.phase === 'open') {
        if (now - c.lastReceivedAt > clientTimeoutMs) {
          this.#fail(c, 'Server timeout elapsed without receiving a message from the client.');
        } else if (now - c.lastSentAt >= keepAliveIntervalMs) {
          c.send({type: MessageType.Ping});
        }
      }
    }
  }
}

function parseArguments(
  method: RegisteredMethod,
  args: readonly unknown[],
): {value: Record<string, unknown>} | {error: string} {
  if (args.length !== method.names.length) {
    return {
      error: `'${method.name}' takes ${method.names.length} argument(s) (${method.names.join(', ')}) but was given ${args.length}.`,
    };
  }
  const value: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const name = method.names[i]!;
    const parsed = method.params[name]!.safeParse(args[i]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      return {error: `Invalid argument '${name}' of '${method.name}'${where}: ${issue?.message ?? 'invalid'}.`};
    }
    value[name] = parsed.data;
  }
  return {value};
}
