import type {IncomingMessage} from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type RawData, type WebSocket} from 'ws';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DrainWaiters,
  SendBufferOverflowError,
  type ConnectionHandler,
  type ConnectionRequest,
  type ConnectionSink,
  type TransportConnection,
} from './transport-connection.js';
import {PIPE_WRITE_AT_BYTES, flusher as sharedFlusher, type Flusher, type PipeWriter} from './output-pipe.js';

/**
 * Messages queued for one connection between two of its flushes travel in one frame, up to
 * PIPE_WRITE_AT_BYTES. SignalR allows several records (JSON) or length-prefixed messages
 * (MessagePack) per transport message, and one frame (one write syscall) instead of twenty is most
 * of what a broadcast costs. See output-pipe.ts for when flushes happen.
 */
const COALESCE_LIMIT = PIPE_WRITE_AT_BYTES;

/**
 * Prepared frames: a broadcast hands every connection the same payload object, and a server's
 * frames are unmasked, so the frame is the same bytes for every client. It is built once and
 * written whole to each socket: one write per client instead of ws framing each send anew and
 * writing header and payload as two buffers.
 */
const prepared = new WeakMap<Uint8Array, Buffer>();

/** A complete, unmasked, final WebSocket frame carrying `parts` back to back (RFC 6455 §5.2). */
export function frame(parts: readonly Uint8Array[], binary: boolean): Buffer {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = 0x80 | (binary ? 0x02 : 0x01);
  if (length < 126) out[1] = length;
  else if (length < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  let at = header;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * The last coalesced frame built: in a broadcast, connection after connection flushes the very
 * same parts (they were flushed together last time and got the same broadcasts since), so the
 * frame built for the first serves them all.
 */
let lastCoalesced: {parts: readonly Uint8Array[]; binary: boolean; bytes: Buffer} | undefined;

/** The frame for one payload, built once per distinct payload (a broadcast shares one). */
function framedOne(payload: Uint8Array, binary: boolean): Buffer {
  let bytes = prepared.get(payload);
  if (bytes === undefined) prepared.set(payload, (bytes = frame([payload], binary)));
  return bytes;
}

/** The frame for several payloads, built once per run of identical part lists. */
function framed(parts: readonly Uint8Array[], binary: boolean): Buffer {
  const last = lastCoalesced;
  if (last !== undefined && last.binary === binary && last.parts.length === parts.length && last.parts.every((p, i) => p === parts[i])) return last.bytes;
  const bytes = frame(parts, binary);
  lastCoalesced = {parts, binary, bytes};
  return bytes;
}

/**
 * The parts of a ws 8 `WebSocket` that prepared frames go through. Not public API: `socketFor`
 * checks their shape and returns undefined (so ws.send is used) if a ws release changes them.
 */
interface WsInternals {
  readonly _socket: Duplex | null;
  readonly _sender: {readonly _state: unknown; readonly _queue: unknown} | undefined;
}

/** The socket to write a whole frame to now, or undefined when ws has frames of its own pending. */
function socketFor(ws: WebSocket): Duplex | undefined {
  const {_socket: socket, _sender: sender} = ws as unknown as WsInternals;
  if (socket === null || sender === undefined || sender._state !== 0 || !Array.isArray(sender._queue) || sender._queue.length > 0) return undefined;
  return socket;
}

/** WebSocket close code for a normal close: the only one the SignalR client does not treat as an error. */
const NORMAL_CLOSURE = 1000;
const GOING_AWAY = 1001;
/** WebSocket close code for a server that could not handle what it received (RFC 6455 §7.4.1). */
const INTERNAL_ERROR = 1011;

/**
 * One connection over WebSockets. Sends queue in its output pipe, which the shared flusher writes
 * out as one frame per flush (output-pipe.ts). With stateful reconnect enabled it outlives its
 * socket: an unclean drop detaches it for a while, and a new socket presenting the same token takes over.
 */
export class WebSocketConnection implements TransportConnection, PipeWriter {
  readonly transport = 'WebSockets' as const;
  readonly inherentKeepAlive = false;
  #ws: WebSocket | undefined;
  #sink: ConnectionSink | undefined;
  #reconnect = false;
  #ending = false;
  #finished = false;
  #window: ReturnType<typeof setTimeout> | undefined;
  /** The output pipe: payloads queued since the last write, all text or all binary. */
  /**
   * What is queued since the last write: the first message alone, the rest (if any) in an array.
   * Most flushes carry one message, and an array per flush per connection (a broadcast to 1,000
   * sockets makes 1,000) was the hub's largest source of objects that survive a scavenge: they
   * live from the send to the flusher's pass, across the allocations of the rest of the broadcast.
   */
  #first: Uint8Array | undefined;
  #rest: Uint8Array[] | undefined;
  /** The flusher's turn this connection last wrote through in (Flusher.writeThrough). */
  #throughTurn = 0;
  #pendingBytes = 0;
  #pendingBinary = false;
  /** Waiting in the flusher's ring. */
  #scheduled = false;
  /** The socket's unsent bytes as of the last write (they only shrink until the next one). */
  #socketBuffered = 0;
  /** Set when the connection was cut off (unsent bytes, or the hub's abort with an error): it ends with this error and is never resumed. */
  #overflow: Error | undefined;
  /** Who waits for the unsent bytes to fall (see {@link drained}). */
  readonly #drains = new DrainWaiters();
  /** Looks at the unsent bytes again while no write or 'drain' is due to. */
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly connectionId: string,
    readonly request: ConnectionRequest,
    readonly supportsReconnect: boolean,
    readonly reconnectWindowMs: number,
    readonly onFinished: () => void,
    /** Unsent bytes (the pipe's queue, ws's and the socket's) past which the connection is cut off. */
    readonly maxBufferedBytes: number = DEFAULT_MAX_BUFFERED_BYTES,
    /** Writes the pipe out (by default the process's shared flusher). */
    readonly flusher: Flusher = sharedFlusher,
  ) {}

  /** True while the socket is gone and a reattach is awaited. */
  get detached(): boolean {
    return this.#ws === undefined && !this.#finished && this.#sink !== undefined;
  }

  enableReconnect(): void {
    this.#reconnect = this.supportsReconnect;
  }

  /** Unsent bytes: the pipe's queue plus ws's and the socket's buffers. */
  get bufferedBytes(): number {
    return this.#pendingBytes + (this.#ws?.bufferedAmount ?? 0);
  }

  drained(below: number): Promise<void> {
    const done = this.#drains.wait(below, this.bufferedBytes);
    this.#expectDrain();
    return done;
  }

  /** Checks the drain waiters again when bytes left. */
  readonly #bytesLeft = (): void => {
    this.#drains.check(this.bufferedBytes);
    this.#expectDrain();
  };

  /**
   * A waiter hears of falling bytes from the next write or the socket's 'drain'. When neither is
   * due (the socket's buffer sits under its high-water mark, nothing queued), look again shortly.
   */
  #expectDrain(): void {
    if (this.#drains.size === 0 || this.#drainTimer !== undefined || this.#pendingBytes > 0) return;
    const socket = (this.#ws as unknown as WsInternals | undefined)?._socket;
    if (socket?.writableNeedDrain === true) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#bytesLeft();
    }, 10);
    this.#drainTimer.unref();
  }

  send(payload: Uint8Array, binary: boolean): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== ws.OPEN) return;
    // A frame is text or binary as a whole: a change of kind (the text handshake reply before
    // MessagePack) or a full batch goes out first.
    if (this.#first !== undefined && (binary !== this.#pendingBinary || this.#pendingBytes + payload.byteLength > COALESCE_LIMIT)) {
      this.#write(ws);
      if (ws.readyState !== ws.OPEN) return;
    }
    if (this.#first === undefined) {
      this.#first = payload;
      this.#pendingBinary = binary;
      if (!this.#scheduled) {
        const turn = this.flusher.writeThrough(this.#throughTurn);
        if (turn !== 0) {
          // An idle flusher: written now, as a plain write would be (output-pipe.ts).
          this.#throughTurn = turn;
          this.#pendingBytes = payload.byteLength;
          this.#write(ws);
          return;
        }
      }
    } else (this.#rest ??= []).push(payload);
    this.#pendingBytes += payload.byteLength;
    this.#pendingBinary = binary;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.flusher.schedule(this);
    }
    // Queued bytes count towards the bound like the socket's: a client that stops reading is cut
    // off whether its backlog waits in the pipe or in the socket.
    if (this.#pendingBytes + this.#socketBuffered > this.maxBufferedBytes) this.#checkBound(ws);
  }

  #dropQueued(): void {
    this.#first = undefined;
    this.#rest = undefined;
    this.#pendingBytes = 0;
  }

  /** Writes the queue as one frame (the flusher's call). */
  flushQueued(): void {
    this.#scheduled = false;
    const ws = this.#ws;
    if (ws !== undefined) this.#write(ws);
  }

  #write(ws: WebSocket): void {
    const first = this.#first;
    if (first === undefined) return;
    const rest = this.#rest;
    this.#dropQueued();
    if (ws.readyState !== ws.OPEN) return;
    const binary = this.#pendingBinary;
    const socket = socketFor(ws);
    if (rest === undefined) {
      if (socket === undefined) ws.send(first, {binary});
      else socket.write(framedOne(first, binary));
    } else {
      const parts = [first, ...rest];
      if (socket === undefined) ws.send(Buffer.concat(parts), {binary});
      else socket.write(framed(parts, binary));
    }
    this.#checkBound(ws);
    if (this.#drains.size > 0) this.#bytesLeft();
  }

  /**
   * Cuts the connection off when its unsent bytes pass the bound. bufferedAmount counts ws's own
   * queue and the socket's, so prepared frames written straight to the socket are counted too. A
   * client that stops reading is cut off here, not buffered without end; pings cannot keep it
   * alive, since the bound is on bytes, not on silence.
   */
  #checkBound(ws: WebSocket): void {
    const buffered = (this.#socketBuffered = ws.bufferedAmount) + this.#pendingBytes;
    if (buffered <= this.maxBufferedBytes) return;
    this.#overflow = new SendBufferOverflowError(this.maxBufferedBytes, buffered);
    this.#dropQueued();
    // A close frame would wait behind the backlog the client does not read: destroy the socket,
    // which frees the backlog now.
    ws.terminate();
  }

  close(): void {
    this.#ending = true;
    // What is queued goes out before the close frame.
    const ws = this.#ws;
    if (ws !== undefined) this.#write(ws);
    if (this.#ws !== undefined) this.#ws.close(NORMAL_CLOSURE);
    else this.#finish();
  }

  abort(error?: Error): void {
    if (error === undefined) return this.#ws?.terminate();
    this.#overflow ??= error;
    // Detached (waiting for a reattach): end it now, with the error.
    if (this.#ws === undefined) this.#finish(error);
    else this.#ws.terminate();
  }

  /** Starts serving on `ws`: the first socket (handing the connection to the hub) or a reattach. */
  attach(ws: WebSocket, handler: ConnectionHandler | undefined): void {
    clearTimeout(this.#window);
    this.#ws = ws;
    this.#socketBuffered = 0;
    const first = this.#sink === undefined;
    if (first) this.#sink = handler!.connect(this);
    const sink = this.#sink!;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.#ws !== ws) return;
      let ready: Promise<void> | void;
      try {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        ready = sink.receive(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'));
      } catch (error) {
        // Nothing a client sends may end the process: an error here (ws's listener has no catch) ends this connection only.
        this.#overflow ??= error instanceof Error ? error : new Error(String(error));
        ws.close(INTERNAL_ERROR, 'The server could not handle a message.');
        return;
      }
      if (ready === undefined) return;
      // The hub is full: stop reading the socket (frames already read may still arrive) until it has room.
      ws.pause();
      void ready.then(() => {
        if (this.#ws === ws) ws.resume();
      });
    });
    (ws as unknown as WsInternals)._socket?.on('drain', () => {
      if (this.#ws === ws) this.#bytesLeft();
    });
    ws.on('error', () => {
      // 'close' follows every 'error'; the sink hears of it there.
    });
    ws.on('close', (code: number) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      // Unsent messages die with the socket; after a reattach the hub resends what was not acked.
      this.#dropQueued();
      // Nothing is unsent any more: whoever paced itself by this socket carries on (and finds it gone).
      this.#drains.end();
      if (this.#overflow !== undefined) return this.#finish(this.#overflow);
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
    clearTimeout(this.#drainTimer);
    this.#drains.end();
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
  readonly #maxBufferedBytes: number;

  constructor(options: {maxPayload: number; reconnectWindowMs?: number; maxBufferedBytes?: number}) {
    // No permessage-deflate: it costs CPU and memory per connection for small event messages.
    this.#wss = new WebSocketServer({noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false});
    this.#reconnectWindowMs = options.reconnectWindowMs ?? 30_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
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
      this.#maxBufferedBytes,
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
