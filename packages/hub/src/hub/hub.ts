import {pino, type Logger} from 'pino';
import type {z} from 'zod';
import {MemoryBackplane, type Audience, type Backplane, type BackplaneMessage, type Scope} from '../backplane/index.js';
import {
  jsonHubProtocol,
  messagePackHubProtocol,
  MessageTooLargeError,
  MessageType,
  parseHandshake,
  ProtocolError,
  writeHandshakeResponse,
  type CompletionMessage,
  type HubMessage,
  type HubProtocol,
  type InvocationMessage,
  type StreamInvocationMessage,
} from '../protocol/index.js';
import {SendBufferOverflowError, type ConnectionHandler, type ConnectionSink, type TransportConnection} from '../transports/transport-connection.js';
import {HubClients} from './clients.js';
import {HubConnection, isCounted} from './hub-connection.js';
import {HubError} from './hub-error.js';
import {
  parseArguments,
  registered,
  type HubFilter,
  type HubMethod,
  type HubParams,
  type HubStreamMethod,
  type InvocationContext,
  type RegisteredMethod,
  type UploadStreamParam,
} from './hub-method.js';
import {UploadStream} from './upload-stream.js';

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

/** A client result the server is waiting for. */
interface PendingResult {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The hub's bookkeeping for one connection beyond what hub methods see. */
class Session {
  readonly inbox: HubMessage[] = [];
  draining = false;
  running = 0;
  readonly waiting: Array<() => void> = [];
  readonly uploads = new Map<string, {stream: UploadStream<unknown>; item: z.ZodType; name: string}>();
  readonly downloads = new Map<string, AbortController>();
  readonly results = new Map<string, PendingResult>();
  #ended: AbortController | undefined;
  constructor(readonly connection: HubConnection) {}

  /** Aborted when the connection ends: every running invocation's signal follows it. Made on first use. */
  get ended(): AbortSignal {
    return (this.#ended ??= new AbortController()).signal;
  }

  /** Aborts {@link ended}, if anyone asked for it. */
  end(): void {
    this.#ended?.abort();
  }
}

/**
 * A SignalR hub: the logic between parsed messages and hub methods. It completes handshakes (JSON or
 * MessagePack, versions 1 and 2), dispatches invocations to methods with zod-validated parameters,
 * streams both ways, asks clients for results, keeps connections alive, resumes them after a dropped
 * socket (stateful reconnect), and sends to connections, groups and users through a backplane,
 * serializing each send once per protocol rather than once per client.
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
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #filters: HubFilter[] = [];
  readonly #sessions = new Map<string, Session>();
  readonly #groups = new Map<string, Set<Session>>();
  readonly #users = new Map<string, Set<Session>>();
  readonly #backplane: Backplane;
  readonly #groupListeners = new Set<(group: string, present: boolean) => void>();
  readonly #stopReceiving: () => void;
  readonly #o: Required<Omit<HubOptions, 'protocols' | 'logger' | 'onConnected' | 'onDisconnected' | 'onReconnected' | 'backplane'>>;
  readonly #onConnected: HubOptions['onConnected'];
  readonly #onDisconnected: HubOptions['onDisconnected'];
  readonly #onReconnected: HubOptions['onReconnected'];
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #nextResultId = 0;
  #slowConsumers = 0;

  constructor(options: HubOptions = {}) {
    this.logger = options.logger ?? pino({level: 'info'});
    this.#protocols = new Map((options.protocols ?? [jsonHubProtocol, messagePackHubProtocol]).map((p) => [p.name, p]));
    this.#o = {
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 15_000,
      clientTimeoutMs: options.clientTimeoutMs ?? 30_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 15_000,
      maximumReceiveMessageSize: options.maximumReceiveMessageSize ?? 32 * 1024,
      maximumParallelInvocationsPerClient: options.maximumParallelInvocationsPerClient ?? 1,
      streamBufferCapacity: options.streamBufferCapacity ?? 10,
      statefulReconnectBufferSize: options.statefulReconnectBufferSize ?? 100_000,
      clientResultTimeoutMs: options.clientResultTimeoutMs ?? 30_000,
    };
    this.#onConnected = options.onConnected;
    this.#onDisconnected = options.onDisconnected;
    this.#onReconnected = options.onReconnected;
    this.#backplane = options.backplane ?? new MemoryBackplane();
    const stopDelivering = this.#backplane.subscribe((message) => this.#deliver(message));
    const stopServing = this.#backplane.serveInvocations?.((connectionId, target, args, timeoutMs) =>
      this.#sessions.get(connectionId)?.connection.phase === 'open' ? this.invokeClient(connectionId, target, args, {timeoutMs}) : undefined,
    );
    this.#stopReceiving = () => {
      stopDelivering();
      stopServing?.();
    };
    this.clients = new HubClients((audience, target, args) => this.#backplane.publish({audience, target, arguments: args}));
  }

  /** Registers a method; names match case-insensitively, as in ASP.NET. */
  method<P extends HubParams>(name: string, method: HubMethod<P>): this {
    return this.#register(registered(name, false, method.params, method.handler as RegisteredMethod['handler']));
  }

  /** Registers a server-to-client streaming method (the client calls it with `stream()`). */
  stream<P extends HubParams, T>(name: string, method: HubStreamMethod<P, T>): this {
    return this.#register(registered(name, true, method.params, method.handler as RegisteredMethod['handler']));
  }

  /** Adds a filter that runs around every invocation; the first added runs outermost. */
  use(filter: HubFilter): this {
    this.#filters.push(filter);
    return this;
  }

  /** Connections cut off so far because their unsent bytes passed the transport's bound (for metrics). */
  get slowConsumerDisconnects(): number {
    return this.#slowConsumers;
  }

  /** Connections on this process that completed their handshake. */
  get connectionCount(): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.connection.phase === 'open') n++;
    return n;
  }

  /** Open connections on this process, counted by transport. */
  connectionsByTransport(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const {connection: c} of this.#sessions.values()) if (c.phase === 'open') counts[c.transport] = (counts[c.transport] ?? 0) + 1;
    return counts;
  }

  /** A connection on this process, by id. */
  connection(connectionId: string): HubConnection | undefined {
    return this.#sessions.get(connectionId)?.connection;
  }

  /** Adds a connection to a group (a no-op when it is already in it). */
  addToGroup(connection: HubConnection, group: string): void {
    const session = this.#sessions.get(connection.connectionId);
    if (session === undefined) return;
    let members = this.#groups.get(group);
    const fresh = members === undefined;
    if (members === undefined) this.#groups.set(group, (members = new Set()));
    members.add(session);
    connection.groups.add(group);
    if (fresh) this.#membership({kind: 'group', name: group}, true);
  }

  /** Removes a connection from a group. */
  removeFromGroup(connection: HubConnection, group: string): void {
    const session = this.#sessions.get(connection.connectionId);
    const members = this.#groups.get(group);
    if (session !== undefined) members?.delete(session);
    connection.groups.delete(group);
    if (members?.size === 0) {
      this.#groups.delete(group);
      this.#membership({kind: 'group', name: group}, false);
    }
  }

  /**
   * Calls `listener` when a group gains its first connection on this process (`present: true`) or
   * loses its last; returns a function that stops it.
   */
  onGroupPresence(listener: (group: string, present: boolean) => void): () => void {
    this.#groupListeners.add(listener);
    return () => this.#groupListeners.delete(listener);
  }

  /** How many of this process's connections are in `group`. */
  groupSize(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }

  /**
   * Sends to this process's connections in `audience` only, bypassing the backplane: for what every
   * process hears by itself (topic events from the log's feed), which the backplane would repeat.
   */
  sendLocal(audience: Audience, target: string, args: readonly unknown[]): void {
    this.#deliver({audience, target, arguments: args});
  }

  /**
   * Invokes `target` on one client and resolves with its result (the client's `on` handler's return
   * value). Rejects with the client's error, when the client is gone, or after the timeout.
   */
  invokeClient<T = unknown>(connectionId: string, target: string, args: readonly unknown[], options: {timeoutMs?: number} = {}): Promise<T> {
    const session = this.#sessions.get(connectionId);
    if (session === undefined && this.#backplane.invokeRemote !== undefined) {
      // Not here: the process that holds it (if any) invokes it and sends the result back.
      return this.#backplane.invokeRemote(connectionId, target, args, options.timeoutMs ?? this.#o.clientResultTimeoutMs) as Promise<T>;
    }
    if (session === undefined || session.connection.phase !== 'open') {
      return Promise.reject(new Error(`Connection '${connectionId}' is not connected to this hub.`));
    }
    const invocationId = `s${++this.#nextResultId}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.results.delete(invocationId);
        reject(new Error(`Client '${connectionId}' did not answer '${target}' in time.`));
      }, options.timeoutMs ?? this.#o.clientResultTimeoutMs);
      session.results.set(invocationId, {resolve: resolve as (v: unknown) => void, reject, timer});
      session.connection.send({type: MessageType.Invocation, invocationId, target, arguments: [...args]});
    });
  }

  /** Starts serving a connection a transport accepted. */
  connect(transport: TransportConnection): ConnectionSink {
    const session = new Session(new HubConnection(transport, Date.now()));
    this.#sessions.set(session.connection.connectionId, session);
    this.#startHeartbeat();
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
    for (const session of this.#sessions.values()) this.closeConnection(session.connection);
    this.#stopHeartbeat();
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

  #register(method: RegisteredMethod): this {
    const key = method.name.toLowerCase();
    if (this.#methods.has(key)) throw new Error(`Hub method '${method.name}' is already registered`);
    this.#methods.set(key, method);
    return this;
  }

  /** Tells the backplane (and group listeners) what this process now holds members of, or no longer. */
  #membership(scope: Scope, present: boolean): void {
    this.#backplane.membership?.(scope, present);
    if (scope.kind === 'group') for (const listener of [...this.#groupListeners]) listener(scope.name, present);
  }

  /** Delivers a backplane message to this process's connections in its audience. */
  #deliver({audience, target, arguments: args}: BackplaneMessage): void {
    const message: HubMessage = {type: MessageType.Invocation, target, arguments: args};
    const serialized = new Map<HubProtocol, Uint8Array>();
    for (const session of this.#audience(audience)) {
      const c = session.connection;
      if (c.phase !== 'open' || c.protocol === undefined) continue;
      let payload = serialized.get(c.protocol);
      if (payload === undefined) serialized.set(c.protocol, (payload = c.protocol.writeMessage(message)));
      c.sendSerialized(payload, true);
    }
  }

  #audience(audience: Audience): Iterable<Session> {
    switch (audience.kind) {
      case 'all':
        return audience.except === undefined ? this.#sessions.values() : except(this.#sessions.values(), audience.except);
      case 'connections':
        return audience.ids.flatMap((id) => this.#sessions.get(id) ?? []);
      case 'groups': {
        const members = union(audience.names.map((n) => this.#groups.get(n)));
        return audience.except === undefined ? members : except(members, audience.except);
      }
      case 'users':
        return union(audience.ids.map((id) => this.#users.get(id)));
    }
  }

  #receive(session: Session, data: string | Uint8Array): void {
    const connection = session.connection;
    if (connection.phase === 'closed') return;
    connection.lastReceivedAt = Date.now();
    // The transport bounds a whole transport message (maxTransportMessageSize); the limit here is
    // per hub message, as in ASP.NET, since clients pack what they send in one turn into one frame.
    let rest: string | Uint8Array = data;
    if (connection.phase === 'handshake') {
      const max = this.#o.maximumReceiveMessageSize;
      const end = typeof data === 'string' ? data.indexOf('\u001e') : data.indexOf(0x1e);
      if ((end === -1 ? data.length : end + 1) > max) return this.#fail(connection, new MessageTooLargeError(max).message);
      const after = this.#handshake(connection, data);
      if (after === undefined || after.length === 0) return;
      rest = after;
    }
    let messages: HubMessage[];
    try {
      messages = connection.protocol!.parseMessages(rest, {maxMessageSize: this.#o.maximumReceiveMessageSize});
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(connection, error instanceof MessageTooLargeError ? error.message : `Connection closed with an error. ${error.message}`);
      return;
    }
    session.inbox.push(...messages);
    if (!session.draining) void this.#drain(session);
  }

  /** Handles a connection's messages in order; waits only while an upload stream's buffer is full. */
  async #drain(session: Session): Promise<void> {
    session.draining = true;
    try {
      while (session.inbox.length > 0 && session.connection.phase === 'open') {
        const wait = this.#handle(session, session.inbox.shift()!);
        if (wait !== undefined) await wait;
      }
    } catch (error) {
      this.logger.error({err: error, connectionId: session.connection.connectionId}, 'message handling failed');
    } finally {
      session.draining = false;
    }
  }

  /** Completes the handshake; returns what followed it, or undefined when the connection was refused. */
  #handshake(connection: HubConnection, data: string | Uint8Array): string | Uint8Array | undefined {
    let parsed;
    try {
      parsed = parseHandshake(data);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(connection, error.message);
      return undefined;
    }
    const {request, rest} = parsed;
    const protocol = this.#protocols.get(request.protocol);
    if (protocol === undefined) {
      this.#fail(connection, `The protocol '${request.protocol}' is not supported.`);
      return undefined;
    }
    if (protocol.transferFormat === 'Binary' && connection.transport === 'ServerSentEvents') {
      this.#fail(connection, `The '${protocol.name}' protocol is binary and cannot travel over ServerSentEvents.`);
      return undefined;
    }
    if (request.version < 1 || request.version > protocol.version) {
      this.#fail(connection, `The server does not support version ${request.version} of the '${protocol.name}' protocol.`);
      return undefined;
    }
    connection.protocol = protocol;
    if (request.version >= 2) connection.enableStatefulReconnect(this.#o.statefulReconnectBufferSize);
    connection.sendHandshake(writeHandshakeResponse());
    connection.phase = 'open';
    this.#membership({kind: 'connection', name: connection.connectionId}, true);
    if (connection.userId !== undefined) {
      let sessions = this.#users.get(connection.userId);
      if (sessions === undefined) {
        this.#users.set(connection.userId, (sessions = new Set()));
        this.#membership({kind: 'user', name: connection.userId}, true);
      }
      sessions.add(this.#sessions.get(connection.connectionId)!);
    }
    this.logger.debug(
      {connectionId: connection.connectionId, transport: connection.transport, protocol: protocol.name, stateful: connection.stateful},
      'connected',
    );
    this.#onConnected?.(connection);
    return rest;
  }

  /** Handles one message; returns a promise only when the connection must wait (upload backpressure). */
  #handle(session: Session, message: HubMessage): Promise<void> | undefined {
    const connection = session.connection;
    if (isCounted(message.type) && !connection.received()) return undefined;
    switch (message.type) {
      case MessageType.Invocation:
        this.#invocation(session, message);
        return undefined;
      case MessageType.StreamInvocation:
        this.#streamInvocation(session, message);
        return undefined;
      case MessageType.StreamItem: {
        const upload = session.uploads.get(message.invocationId);
        if (upload === undefined) return undefined;
        const item = upload.item.safeParse(message.item);
        if (!item.success) {
          session.uploads.delete(message.invocationId);
          upload.stream.complete(new HubError(`Invalid item of stream '${upload.name}': ${item.error.issues[0]?.message ?? 'invalid'}.`));
          return undefined;
        }
        return upload.stream.push(item.data);
      }
      case MessageType.Completion:
        this.#completion(session, message);
        return undefined;
      case MessageType.CancelInvocation:
        session.downloads.get(message.invocationId)?.abort();
        return undefined;
      case MessageType.Ack:
        connection.acked(message.sequenceId);
        return undefined;
      case MessageType.Sequence:
        connection.sequence(message.sequenceId);
        return undefined;
      case MessageType.Close:
        connection.closeTransport();
        return undefined;
      case MessageType.Ping:
        return undefined;
    }
  }

  /** A Completion from the client ends an upload stream or answers a client-result invocation. */
  #completion(session: Session, message: CompletionMessage): void {
    const upload = session.uploads.get(message.invocationId);
    if (upload !== undefined) {
      session.uploads.delete(message.invocationId);
      upload.stream.complete(message.error === undefined ? undefined : new HubError(message.error));
      return;
    }
    const pending = session.results.get(message.invocationId);
    if (pending === undefined) return;
    session.results.delete(message.invocationId);
    clearTimeout(pending.timer);
    if (message.error !== undefined) pending.reject(new Error(message.error));
    else pending.resolve(message.result ?? null);
  }

  #invocation(session: Session, message: InvocationMessage): void {
    const {invocationId, target} = message;
    const reply = (outcome: {error: string} | {result: unknown}): void => {
      if (invocationId !== undefined) session.connection.send({type: MessageType.Completion, invocationId, ...outcome});
    };
    const method = this.#methods.get(target.toLowerCase());
    if (method === undefined) return reply({error: `Unknown hub method '${target}'.`});
    if (method.streaming) return reply({error: `'${method.name}' is a streaming method: call it with stream().`});
    const parsed = parseArguments(method, message.arguments, message.streamIds ?? []);
    if ('error' in parsed) return reply(parsed);
    const args = parsed.value;
    // Upload streams exist from now on, so items that follow the invocation are never lost.
    const uploads = (message.streamIds ?? []).map((streamId, i) => {
      const name = method.streamNames[i]!;
      const stream = new UploadStream<unknown>(this.#o.streamBufferCapacity);
      session.uploads.set(streamId, {stream, item: (method.params[name] as UploadStreamParam).item, name});
      args[name] = stream;
      return {streamId, stream};
    });
    this.#whenSlotFree(session, async () => {
      try {
        reply({result: (await this.#run(session, method, args, session.ended)) ?? null});
      } catch (error) {
        reply({error: this.#describe(error, method, session)});
      } finally {
        for (const {streamId, stream} of uploads) {
          session.uploads.delete(streamId);
          stream.complete();
        }
      }
    });
  }

  #streamInvocation(session: Session, message: StreamInvocationMessage): void {
    const {invocationId, target} = message;
    const fail = (error: string): void => session.connection.send({type: MessageType.Completion, invocationId, error});
    const method = this.#methods.get(target.toLowerCase());
    if (method === undefined) return fail(`Unknown hub method '${target}'.`);
    if (!method.streaming) return fail(`'${method.name}' is not a streaming method.`);
    const parsed = parseArguments(method, message.arguments, message.streamIds ?? []);
    if ('error' in parsed) return fail(parsed.error);
    const cancel = new AbortController();
    const signal = AbortSignal.any([cancel.signal, session.ended]);
    session.downloads.set(invocationId, cancel);
    void (async () => {
      try {
        const items = (await this.#run(session, method, parsed.value, signal)) as AsyncIterable<unknown> | Iterable<unknown>;
        if (items === null || typeof items !== 'object' || !(Symbol.asyncIterator in items || Symbol.iterator in items)) {
          throw new TypeError(`'${method.name}' did not return an iterable`);
        }
        for await (const item of items) {
          if (signal.aborted) break;
          session.connection.send({type: MessageType.StreamItem, invocationId, item});
        }
        if (!signal.aborted) session.connection.send({type: MessageType.Completion, invocationId});
      } catch (error) {
        if (!signal.aborted) fail(this.#describe(error, method, session));
      } finally {
        session.downloads.delete(invocationId);
      }
    })();
  }

  /** Runs a method's handler inside the filters. */
  #run(session: Session, method: RegisteredMethod, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const connection = session.connection;
    const context: InvocationContext = {
      hub: this,
      caller: connection,
      method: method.name,
      signal,
      clients: {
        caller: {send: (target, ...a) => connection.send({type: MessageType.Invocation, target, arguments: a})},
        others: this.clients.allExcept([connection.connectionId]),
        othersInGroup: (group) => this.clients.groupExcept(group, [connection.connectionId]),
      },
    };
    const call = (index: number): Promise<unknown> => {
      const filter = this.#filters[index];
      if (filter === undefined) return Promise.resolve().then(() => method.handler(args, context));
      return filter({args, context}, () => call(index + 1));
    };
    return call(0);
  }

  /** The message a failed invocation reports: a HubError's own, otherwise a generic one (logged). */
  #describe(error: unknown, method: RegisteredMethod, session: Session): string {
    if (error instanceof HubError) return error.message;
    this.logger.error({err: error, connectionId: session.connection.connectionId, target: method.name}, 'hub method failed');
    return `An unexpected error occurred invoking '${method.name}' on the server.`;
  }

  /** Runs `task` when the connection has fewer than the allowed invocations running. */
  #whenSlotFree(session: Session, task: () => Promise<void>): void {
    const start = (): void => {
      session.running++;
      void task().finally(() => {
        session.running--;
        session.waiting.shift()?.();
      });
    };
    if (session.running < this.#o.maximumParallelInvocationsPerClient) start();
    else session.waiting.push(start);
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
    // Leave the groups while the session is still registered: removeFromGroup looks it up by id.
    for (const group of [...connection.groups]) this.removeFromGroup(connection, group);
    this.#sessions.delete(connection.connectionId);
    if (wasOpen) this.#membership({kind: 'connection', name: connection.connectionId}, false);
    if (connection.userId !== undefined) {
      const sessions = this.#users.get(connection.userId);
      sessions?.delete(session);
      if (sessions?.size === 0) {
        this.#users.delete(connection.userId);
        this.#membership({kind: 'user', name: connection.userId}, false);
      }
    }
    for (const {stream} of session.uploads.values()) stream.complete(new HubError('The connection closed.'));
    for (const pending of session.results.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`Connection '${connection.connectionId}' closed before answering.`));
    }
    session.results.clear();
    if (this.#sessions.size === 0) this.#stopHeartbeat();
    if (wasOpen) this.#onDisconnected?.(connection, error);
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const {keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs} = this.#o;
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
    const {handshakeTimeoutMs, keepAliveIntervalMs, clientTimeoutMs} = this.#o;
    for (const {connection: c} of this.#sessions.values()) {
      if (c.phase === 'handshake') {
        if (now - c.openedAt > handshakeTimeoutMs) this.#fail(c, 'Handshake was canceled: no handshake within the timeout.');
      } else if (c.phase === 'open' && !c.inherentKeepAlive && !c.detached) {
        if (c.sentSinceBeat) {
          c.lastSentAt = now;
          c.sentSinceBeat = false;
        }
        if (now - c.lastReceivedAt > clientTimeoutMs) {
          this.#fail(c, 'Server timeout elapsed without receiving a message from the client.');
        } else if (now - c.lastSentAt >= keepAliveIntervalMs) {
          c.send({type: MessageType.Ping});
        }
      }
    }
  }
}

function* except(sessions: Iterable<Session>, ids: readonly string[]): Iterable<Session> {
  for (const s of sessions) if (!ids.includes(s.connection.connectionId)) yield s;
}

function union(sets: ReadonlyArray<Set<Session> | undefined>): Set<Session> {
  if (sets.length === 1) return sets[0] ?? new Set();
  const all = new Set<Session>();
  for (const set of sets) if (set !== undefined) for (const s of set) all.add(s);
  return all;
}
