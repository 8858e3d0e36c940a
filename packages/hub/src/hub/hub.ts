import type {Logger} from 'pino';
import {createLogger} from '../logging/create-logger.js';
import {MemoryBackplane, type Audience, type Backplane} from '../backplane/index.js';
import {
  jsonHubProtocol,
  messagePackHubProtocol,
  MessageTooLargeError,
  MessageType,
  ProtocolError,
  writeHandshakeResponse,
  type HubProtocol,
} from '../protocol/index.js';
import {SendBufferOverflowError, type ConnectionHandler, type ConnectionSink, type TransportConnection} from '../transports/transport-connection.js';
import {HubClients} from './clients.js';
import {HubDispatcher} from './dispatcher.js';
import {negotiate} from './handshake.js';
import {HubConnection} from './hub-connection.js';
import {registered, type HubFilter, type HubMethod, type HubParams, type HubStreamMethod, type RegisteredMethod} from './hub-method.js';
import {KeepAlive} from './keep-alive.js';
import {HubLifetime} from './lifetime.js';
import {DEFAULT_RECEIVE_QUEUE_LIMITS, type ReceiveQueueLimits, type ResolvedReceiveQueueLimits} from './receive-queue.js';
import {Session} from './session.js';

/** Options of {@link Hub}; every default is ASP.NET Core SignalR's. */
export interface HubOptions {
  /** Hub protocols offered; default JSON and MessagePack. */
  readonly protocols?: readonly HubProtocol[];
  /** Send a Ping after this long without sending anything; default 15 s. */
  readonly keepAliveIntervalMs?: number;
  /** Close a connection that sent nothing for this long; default 30 s. */
  readonly clientTimeoutMs?: number;
  /** Close a connection that sent no handshake within this long; default 15 s. */
  readonly handshakeTimeoutMs?: number;
  /** Largest hub message accepted (each one, not the transport message carrying several), in bytes; default 32 KB. */
  readonly maximumReceiveMessageSize?: number;
  /** Invocations of one client that run at once; more wait their turn. Default 1. */
  readonly maximumParallelInvocationsPerClient?: number;
  /**
   * Hub messages read from one transport message (a WebSocket frame, a POST body); one more closes
   * the connection. Default 10,000 (a transport message is at most 1 MB: 95,000 JSON Pings fit).
   */
  readonly maximumMessagesPerTransportMessage?: number;
  /** Deepest nesting of arrays and objects in a hub message (the message itself is level 1); deeper closes the connection. Default 64, System.Text.Json's. */
  readonly maximumNestingDepth?: number;
  /** What one connection may have received and not yet handled before the hub stops reading it, and closes it. */
  readonly receiveQueue?: ReceiveQueueLimits;
  /** Items of one upload stream buffered before the hub stops reading that connection; default 10. */
  readonly streamBufferCapacity?: number;
  /** Bytes of unacked messages kept per connection for stateful reconnect; default 100,000. */
  readonly statefulReconnectBufferSize?: number;
  /** How long {@link Hub.invokeClient} waits for a client's result; default 30 s. */
  readonly clientResultTimeoutMs?: number;
  /** How sends reach connections on every hub process; in memory by default. */
  readonly backplane?: Backplane;
  readonly logger?: Logger;
  /** Called once a connection completed its handshake. */
  readonly onConnected?: (connection: HubConnection) => void;
  /** Called once a connection that completed its handshake is gone. */
  readonly onDisconnected?: (connection: HubConnection, error?: Error) => void;
  /** Called when a connection resumed on a new socket after a drop (stateful reconnect). */
  readonly onReconnected?: (connection: HubConnection) => void;
}

/**
 * A SignalR hub: the logic between parsed messages and hub methods. It completes handshakes (JSON or
 * MessagePack, versions 1 and 2), dispatches invocations to methods with zod-validated parameters,
 * streams both ways, asks clients for results, keeps connections alive, resumes them after a dropped
 * socket (stateful reconnect), and sends to connections, groups and users through a backplane,
 * serializing each send once per protocol rather than once per client.
 *
 * This class is the facade and a connection's life (handshake, receiving, closing); the rest is split
 * by role as in ASP.NET Core: `HubDispatcher` runs invocations, streams and client results,
 * `HubLifetime` knows sessions, groups and users and delivers sends, `KeepAlive` pings and times out.
 *
 * ```ts
 * const hub = new Hub();
 * hub.method('echo', {params: {text: z.string()}, handler: ({text}) => text});
 * hub.clients.group('news').send('headline', 'Hello');
 * ```
 */
export class Hub implements ConnectionHandler {
  readonly logger: Logger;
  /** Every audience this hub can send to. */
  readonly clients: HubClients;
  readonly #protocols: ReadonlyMap<string, HubProtocol>;
  readonly #lifetime: HubLifetime;
  readonly #dispatcher: HubDispatcher;
  readonly #keepAlive: KeepAlive;
  readonly #backplane: Backplane;
  readonly #stopReceiving: () => void;
  readonly #o: Required<Omit<HubOptions, 'protocols' | 'logger' | 'onConnected' | 'onDisconnected' | 'onReconnected' | 'backplane' | 'receiveQueue'>> & {
    readonly receiveQueue: ResolvedReceiveQueueLimits;
  };
  readonly #onConnected: HubOptions['onConnected'];
  readonly #onDisconnected: HubOptions['onDisconnected'];
  readonly #onReconnected: HubOptions['onReconnected'];
  #slowConsumers = 0;
  #receiveOverflows = 0;

  constructor(options: HubOptions = {}) {
    this.logger = options.logger ?? createLogger();
    this.#protocols = new Map((options.protocols ?? [jsonHubProtocol, messagePackHubProtocol]).map((p) => [p.name, p]));
    this.#o = {
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 15_000,
      clientTimeoutMs: options.clientTimeoutMs ?? 30_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 15_000,
      maximumReceiveMessageSize: options.maximumReceiveMessageSize ?? 32 * 1024,
      maximumParallelInvocationsPerClient: options.maximumParallelInvocationsPerClient ?? 1,
      maximumMessagesPerTransportMessage: options.maximumMessagesPerTransportMessage ?? 10_000,
      maximumNestingDepth: options.maximumNestingDepth ?? 64,
      receiveQueue: {...DEFAULT_RECEIVE_QUEUE_LIMITS, ...options.receiveQueue},
      streamBufferCapacity: options.streamBufferCapacity ?? 10,
      statefulReconnectBufferSize: options.statefulReconnectBufferSize ?? 100_000,
      clientResultTimeoutMs: options.clientResultTimeoutMs ?? 30_000,
    };
    this.#onConnected = options.onConnected;
    this.#onDisconnected = options.onDisconnected;
    this.#onReconnected = options.onReconnected;
    this.#backplane = options.backplane ?? new MemoryBackplane();
    this.#lifetime = new HubLifetime(this.#backplane);
    this.#dispatcher = new HubDispatcher(this, {...this.#o, pauseInvocations: this.#o.receiveQueue.pauseInvocations});
    this.#keepAlive = new KeepAlive(this.#o, () => this.#lifetime.connections(), (connection, error) => this.#fail(connection, error));
    const stopDelivering = this.#backplane.subscribe((message) => this.#lifetime.deliver(message));
    const stopServing = this.#backplane.serveInvocations?.((connectionId, target, args, timeoutMs) =>
      this.#lifetime.get(connectionId)?.connection.phase === 'open' ? this.invokeClient(connectionId, target, args, {timeoutMs}) : undefined,
    );
    this.#stopReceiving = () => {
      stopDelivering();
      stopServing?.();
    };
    this.clients = new HubClients((audience, target, args) => this.#backplane.publish({audience, target, arguments: args}));
  }

  /** Registers a method; names match case-insensitively, as in ASP.NET. */
  method<P extends HubParams>(name: string, method: HubMethod<P>): this {
    this.#dispatcher.register(registered(name, false, method.params, method.handler as RegisteredMethod['handler']));
    return this;
  }

  /** Registers a server-to-client streaming method (the client calls it with `stream()`). */
  stream<P extends HubParams, T>(name: string, method: HubStreamMethod<P, T>): this {
    this.#dispatcher.register(registered(name, true, method.params, method.handler as RegisteredMethod['handler']));
    return this;
  }

  /** Adds a filter that runs around every invocation; the first added runs outermost. */
  use(filter: HubFilter): this {
    this.#dispatcher.use(filter);
    return this;
  }

  /** Connections cut off so far because their unsent bytes passed the transport's bound (for metrics). */
  get slowConsumerDisconnects(): number {
    return this.#slowConsumers;
  }

  /** Connections closed so far because they kept sending past their receive queue's bound (for metrics). */
  get receiveQueueOverflows(): number {
    return this.#receiveOverflows;
  }

  /** Connections the hub is not reading now because their receive queue is full (for metrics). */
  get receivePausedConnections(): number {
    let n = 0;
    for (const s of this.#lifetime.sessions()) if (s.resumed !== undefined) n++;
    return n;
  }

  /** Connections on this process that completed their handshake. */
  get connectionCount(): number {
    let n = 0;
    for (const s of this.#lifetime.sessions()) if (s.connection.phase === 'open') n++;
    return n;
  }

  /** Open connections on this process, counted by transport. */
  connectionsByTransport(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const {connection: c} of this.#lifetime.sessions()) if (c.phase === 'open') counts[c.transport] = (counts[c.transport] ?? 0) + 1;
    return counts;
  }

  /** A connection on this process, by id. */
  connection(connectionId: string): HubConnection | undefined {
    return this.#lifetime.get(connectionId)?.connection;
  }

  /** Adds a connection to a group (a no-op when it is already in it). */
  addToGroup(connection: HubConnection, group: string): void {
    this.#lifetime.addToGroup(connection, group);
  }

  /** Removes a connection from a group. */
  removeFromGroup(connection: HubConnection, group: string): void {
    this.#lifetime.removeFromGroup(connection, group);
  }

  /**
   * Calls `listener` when a group gains its first connection on this process (`present: true`) or
   * loses its last; returns a function that stops it.
   */
  onGroupPresence(listener: (group: string, present: boolean) => void): () => void {
    return this.#lifetime.onGroupPresence(listener);
  }

  /** How many of this process's connections are in `group`. */
  groupSize(group: string): number {
    return this.#lifetime.groupSize(group);
  }

  /**
   * Sends to this process's connections in `audience` only, bypassing the backplane: for what every
   * process hears by itself (topic events from the log's feed), which the backplane would repeat.
   * `argumentsJson`, when given, is `args` already as JSON text: JSON-protocol connections get it as
   * it is, so `args` is serialized only for other protocols.
   */
  sendLocal(audience: Audience, target: string, args: readonly unknown[], argumentsJson?: string): void {
    this.#lifetime.deliver({audience, target, arguments: args}, argumentsJson);
  }

  /**
   * Invokes `target` on one client and resolves with its result (the client's `on` handler's return
   * value). Rejects with the client's error, when the client is gone, or after the timeout.
   */
  invokeClient<T = unknown>(connectionId: string, target: string, args: readonly unknown[], options: {timeoutMs?: number} = {}): Promise<T> {
    const session = this.#lifetime.get(connectionId);
    if (session === undefined && this.#backplane.invokeRemote !== undefined) {
      // Not here: the process that holds it (if any) invokes it and sends the result back.
      return this.#backplane.invokeRemote(connectionId, target, args, options.timeoutMs ?? this.#o.clientResultTimeoutMs) as Promise<T>;
    }
    if (session === undefined || session.connection.phase !== 'open') {
      return Promise.reject(new Error(`Connection '${connectionId}' is not connected to this hub.`));
    }
    return this.#dispatcher.invokeClient<T>(session, target, args, options.timeoutMs ?? this.#o.clientResultTimeoutMs);
  }

  /** Starts serving a connection a transport accepted. */
  connect(transport: TransportConnection): ConnectionSink {
    const session = new Session(new HubConnection(transport, Date.now()), this.#o.receiveQueue);
    this.#lifetime.add(session);
    this.#keepAlive.start();
    return {
      receive: (data) => this.#receive(session, data),
      closed: (error) => this.#closed(session, error),
      detached: () => {
        // A connection that gave up resuming (its replay buffer overflowed) cannot be resumed
        // truthfully: end it, so the client reconnects from scratch instead of reattaching.
        if (!session.connection.resumable) session.connection.closeTransport();
        else session.connection.detached = true;
      },
      reattached: () => {
        session.connection.reattached();
        this.logger.debug({connectionId: session.connection.connectionId}, 'resumed');
        this.#onReconnected?.(session.connection);
      },
    };
  }

  /** Closes every connection (sending Close first), stops the heartbeat and leaves the backplane. */
  close(): void {
    for (const session of this.#lifetime.sessions()) this.closeConnection(session.connection);
    this.#keepAlive.stop();
    this.#stopReceiving();
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
      connection.sendHandshake(writeHandshakeResponse(error));
    }
    connection.closeTransport();
  }

  /**
   * Takes one transport message. Returns a promise while the connection's receive queue is full:
   * the transport reads nothing more from it until the promise settles. Never throws: whatever goes
   * wrong closes this connection, not the process.
   */
  #receive(session: Session, data: string | Uint8Array): Promise<void> | undefined {
    const connection = session.connection;
    if (connection.phase === 'closed') return undefined;
    try {
      connection.lastReceivedAt = Date.now();
      // The transport bounds a whole transport message (maxTransportMessageSize); the limit here is
      // per hub message, as in ASP.NET, since clients pack what they send in one turn into one frame.
      let rest: string | Uint8Array = data;
      if (connection.phase === 'handshake') {
        const max = this.#o.maximumReceiveMessageSize;
        const end = typeof data === 'string' ? data.indexOf('\u001e') : data.indexOf(0x1e);
        if ((end === -1 ? data.length : end + 1) > max) return void this.#fail(connection, new MessageTooLargeError(max).message);
        const after = this.#handshake(session, data);
        if (after === undefined || after.length === 0) return undefined;
        rest = after;
      }
      // Read lazily, one message at a time as the dispatcher takes them: a transport message of many
      // tiny messages costs what its messages cost, and while the connection waits (a slot, an
      // upload stream) its unread messages stay bytes rather than parsed objects.
      const messages = connection.protocol!.readMessages(rest, {
        maxMessageSize: this.#o.maximumReceiveMessageSize,
        maxMessages: this.#o.maximumMessagesPerTransportMessage,
        maxDepth: this.#o.maximumNestingDepth,
      });
      const bytes = typeof rest === 'string' ? rest.length : rest.byteLength;
      if (!session.queue.add(messages, bytes)) {
        this.#receiveOverflows++;
        const {maxBytes} = this.#o.receiveQueue;
        return void this.#fail(
          connection,
          `Closed a client that kept sending while the server asked it to wait: ${session.queue.bytes + bytes} bytes received and not yet handled passed the bound of ${maxBytes} (option receiveQueue.maxBytes).`,
        );
      }
      if (!session.draining) void this.#drain(session);
      return session.queue.full && connection.phase === 'open' ? this.#pause(session) : undefined;
    } catch (error) {
      this.#broken(session, error);
      return undefined;
    }
  }

  /** The transport stops reading until the queue has room; the client timeout waits meanwhile (as ASP.NET's does while it dispatches). */
  #pause(session: Session): Promise<void> {
    const connection = session.connection;
    connection.receivePaused = true;
    return (session.resumed ??= session.queue.room().then(() => {
      session.resumed = undefined;
      connection.receivePaused = false;
      connection.lastReceivedAt = Date.now();
    }));
  }

  /** Handles a connection's messages in order; waits while an upload stream's buffer is full or too many invocations wait. */
  async #drain(session: Session): Promise<void> {
    session.draining = true;
    try {
      while (session.connection.phase === 'open') {
        const read = session.queue.next();
        if (read === undefined) break;
        const wait = this.#dispatcher.handle(session, read.message, read.size);
        if (wait !== undefined) await wait;
      }
    } catch (error) {
      this.#broken(session, error);
    } finally {
      session.draining = false;
    }
  }

  /** Closes a connection whose input could not be handled: with the protocol's message, or a generic one (logged). */
  #broken(session: Session, error: unknown): void {
    session.queue.clear();
    if (error instanceof ProtocolError) {
      this.#fail(session.connection, error instanceof MessageTooLargeError ? error.message : `Connection closed with an error. ${error.message}`);
      return;
    }
    this.logger.error({err: error, connectionId: session.connection.connectionId}, 'message handling failed');
    this.#fail(session.connection, 'Connection closed with an error. The server could not handle a message.');
  }

  /** Completes the handshake; returns what followed it, or undefined when the connection was refused. */
  #handshake(session: Session, data: string | Uint8Array): string | Uint8Array | undefined {
    const connection = session.connection;
    const outcome = negotiate(data, this.#protocols, connection.transport);
    if ('error' in outcome) {
      this.#fail(connection, outcome.error);
      return undefined;
    }
    const {protocol, version, rest} = outcome;
    connection.protocol = protocol;
    if (version >= 2) connection.enableStatefulReconnect(this.#o.statefulReconnectBufferSize);
    connection.sendHandshake(writeHandshakeResponse());
    connection.phase = 'open';
    this.#lifetime.opened(session);
    this.logger.debug(
      {connectionId: connection.connectionId, transport: connection.transport, protocol: protocol.name, stateful: connection.stateful},
      'connected',
    );
    this.#onConnected?.(connection);
    return rest;
  }

  #fail(connection: HubConnection, error: string): void {
    this.logger.warn({connectionId: connection.connectionId, error}, 'closing connection');
    this.closeConnection(connection, error);
  }

  #closed(session: Session, error?: Error): void {
    const connection = session.connection;
    if (connection.phase === 'closed') return;
    const wasOpen = connection.phase === 'open';
    connection.phase = 'closed';
    if (error instanceof SendBufferOverflowError) {
      this.#slowConsumers++;
      this.logger.warn({connectionId: connection.connectionId, transport: connection.transport, buffered: error.buffered, limit: error.limit}, error.message);
    }
    connection.dispose();
    session.end();
    session.queue.clear();
    // Leave the groups while the session is still registered: removeFromGroup looks it up by id.
    for (const group of [...connection.groups]) this.removeFromGroup(connection, group);
    this.#lifetime.remove(session, wasOpen);
    this.#dispatcher.closed(session);
    if (this.#lifetime.size === 0) this.#keepAlive.stop();
    if (wasOpen) this.#onDisconnected?.(connection, error);
  }
}
