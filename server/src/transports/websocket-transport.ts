import type {IncomingMessage} from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type RawData, type WebSocket} from 'ws';
import type {ConnectionHandler, ConnectionRequest, ConnectionSink, TransportConnection} from './transport-connection';

/**
 * Messages sent to one connection within one turn of the event loop travel in one frame, up to this
 * many bytes. SignalR allows several records (JSON) or length-prefixed messages (MessagePack) per
 * transport message, and one frame instead of twenty is most of what a broadcast costs.
 */
const COALESCE_LIMIT = 64 * 1024;

/** WebSocket close code for a normal close: the only one the SignalR client does not treat as an error. */
const NORMAL_CLOSURE = 1000;
const GOING_AWAY = 1001;

/**
 * One connection over WebSockets. With stateful reconnect enabled it outlives its socket: an unclean
 * drop detaches it for a while, and a new socket presenting the same token takes over.
 */
export class WebSocketConnection implements TransportConnection {
  readonly transport = 'WebSockets' as const;
  readonly inherentKeepAlive = false;
  #ws: WebSocket | undefined;
  #sink: ConnectionSink | undefined;
  #reconnect = false;
  #ending = false;
  #finished = false;
  #window: ReturnType<typeof setTimeout> | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #pendingBinary = false;

  constructor(
    readonly connectionId: string,
    readonly request: ConnectionRequest,
    readonly supportsReconnect: boolean,
    readonly reconnectWindowMs: number,
    readonly onFinished: () => void,
    /** Queues this connection for the transport's one flush at the end of the turn. */
    readonly scheduleFlush: (connection: WebSocketConnection) => void,
  ) {}

  /** True while the socket is gone and a reattach is awaited. */
  get detached(): boolean {
    return this.#ws === undefined && !this.#finished && this.#sink !== undefined;
  }

  enableReconnect(): void {
    this.#reconnect = this.supportsReconnect;
  }

  send(payload: Uint8Array, binary: boolean): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== ws.OPEN) return;
    // A frame is text or binary as a whole: a change of kind (the text handshake reply before
    // MessagePack) or a full batch goes out first.
    if (this.#pending.length > 0 && (binary !== this.#pendingBinary || this.#pendingBytes + payload.byteLength > COALESCE_LIMIT)) {
      this.#flush();
    }
    if (this.#pending.length === 0) this.scheduleFlush(this);
    this.#pending.push(payload);
    this.#pendingBytes += payload.byteLength;
    this.#pendingBinary = binary;
  }

  /** Sends what accumulated this turn as one frame. */
  flush(): void {
    this.#flush();
  }

  readonly #flush = (): void => {
    const parts = this.#pending;
    if (parts.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== ws.OPEN) return;
    ws.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts), {binary: this.#pendingBinary});
  };

  close(): void {
    this.#ending = true;
    this.#flush();
    if (this.#ws !== undefined) this.#ws.close(NORMAL_CLOSURE);
    else this.#finish();
  }

  abort(): void {
    this.#ws?.terminate();
  }

  /** Starts serving on `ws`: the first socket (handing the connection to the hub) or a reattach. */
  attach(ws: WebSocket, handler: ConnectionHandler | undefined): void {
    clearTimeout(this.#window);
    this.#ws = ws;
    const first = this.#sink === undefined;
    if (first) this.#sink = handler!.connect(this);
    const sink = this.#sink!;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.#ws !== ws) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      sink.receive(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'));
    });
    ws.on('error', () => {
      // 'close' follows every 'error'; the sink hears of it there.
    });
    ws.on('close', (code: number) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      const clean = this.#ending || code === NORMAL_CLOSURE || code === GOING_AWAY;
      if (!clean && this.#reconnect) {
        sink.detached?.();
        this.#window = setTimeout(() => this.#finish(new Error('The client did not reconnect in time.')), this.reconnectWindowMs);
        this.#window.unref();
        return;
      }
      this.#finish(clean ? undefined : new Error(`WebSocket closed with code ${code}`));
    });
    if (!first) sink.reattached?.();
  }

  #finish(error?: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#window);
    this.onFinished();
    this.#sink?.closed(error);
  }
}

/**
 * The WebSockets transport over `ws`: text frames for text protocols, binary frames for binary ones.
 * It moves bytes between sockets and the hub's sink, nothing more.
 */
export class WebSocketTransport {
  readonly #wss: WebSocketServer;
  readonly #reconnectWindowMs: number;
  /** Connections with messages waiting; one microtask per turn flushes them all. */
  #dirty: WebSocketConnection[] = [];
  readonly #schedule = (connection: WebSocketConnection): void => {
    if (this.#dirty.length === 0) queueMicrotask(this.#flushAll);
    this.#dirty.push(connection);
  };
  readonly #flushAll = (): void => {
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const connection of dirty) connection.flush();
  };

  constructor(options: {maxPayload: number; reconnectWindowMs?: number}) {
    // No permessage-deflate: it costs CPU and memory per connection for small event messages.
    this.#wss = new WebSocketServer({noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false});
    this.#reconnectWindowMs = options.reconnectWindowMs ?? 30_000;
  }

  /** Completes the upgrade of a new connection and hands it to the hub. */
  accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: {connectionId: string; request: ConnectionRequest; handler: ConnectionHandler; supportsReconnect: boolean; onFinished: () => void},
  ): WebSocketConnection {
    const connection = new WebSocketConnection(
      target.connectionId,
      target.request,
      target.supportsReconnect,
      this.#reconnectWindowMs,
      target.onFinished,
      this.#schedule,
    );
    this.#wss.handleUpgrade(req, socket, head, (ws) => connection.attach(ws, target.handler));
    return connection;
  }

  /** Completes the upgrade of a socket that resumes a detached connection. */
  reattach(req: IncomingMessage, socket: Duplex, head: Buffer, connection: WebSocketConnection): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => connection.attach(ws, undefined));
  }

  /** Closes every open socket. */
  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
