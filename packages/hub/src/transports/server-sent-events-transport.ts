import type {IncomingMessage, ServerResponse} from 'node:http';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DrainWaiters,
  SendBufferOverflowError,
  type ConnectionHandler,
  type ConnectionRequest,
  type ConnectionSink,
  type TransportConnection,
} from './transport-connection.js';
import {PIPE_WRITE_AT_BYTES, flusher as sharedFlusher, type Flusher} from './output-pipe.js';

const decoder = new TextDecoder();

/**
 * The Server-Sent Events transport: the server's half is one long `text/event-stream` response; the
 * client sends with POST (handled by the endpoint). Text protocols only.
 */
export class ServerSentEventsTransport {
  readonly #open = new Set<ServerResponse>();
  readonly #maxBufferedBytes: number;
  readonly #flusher: Flusher;

  /**
   * `maxBufferedBytes`: unsent bytes of one stream (queued or in the socket) past which it is cut
   * off (default 1 MB); `flusher`: writes queued events out (default: the process's shared one).
   */
  constructor(options: {maxBufferedBytes?: number; flusher?: Flusher} = {}) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#flusher = options.flusher ?? sharedFlusher;
  }

  /** Starts the event stream for a connection and hands the connection to the hub. */
  open(req: IncomingMessage, res: ServerResponse, target: {connectionId: string; request: ConnectionRequest; handler: ConnectionHandler}): ConnectionSink {
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    // A comment at once, so the client's EventSource fires `open` without waiting for data.
    res.write(':\r\n');
    this.#open.add(res);
    let ended = false;
    let overflow: Error | undefined;
    const drains = new DrainWaiters();
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const buffered = (): number => (ended ? 0 : pendingBytes + res.writableLength);
    // Waiters hear of falling bytes from the next flush or the response's 'drain'; when neither is
    // due (the buffer sits under its high-water mark, nothing queued), look again shortly.
    const bytesLeft = (): void => {
      drains.check(buffered());
      if (drains.size === 0 || drainTimer !== undefined || pendingBytes > 0 || res.writableNeedDrain) return;
      drainTimer = setTimeout(() => {
        drainTimer = undefined;
        bytesLeft();
      }, 10);
      drainTimer.unref();
    };
    res.on('drain', bytesLeft);
    // The output pipe (see output-pipe.ts): messages queued between two flushes go out as one
    // event, in one write; the shared flusher decides when.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let socketBuffered = 0;
    let scheduled = false;
    const cut = (buffered: number): void => {
      overflow = new SendBufferOverflowError(this.#maxBufferedBytes, buffered);
      ended = true;
      pending = [];
      res.destroy();
    };
    const flush = (): void => {
      const parts = pending;
      pending = [];
      pendingBytes = 0;
      if (ended || parts.length === 0) return;
      // A line break inside the message starts a new `data:` line.
      const lines = decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts)).split('\n');
      res.write(`${lines.map((line) => `data: ${line}`).join('\r\n')}\r\n\r\n`);
      // writableLength counts the response's buffer and its socket's: what the client has not taken.
      socketBuffered = res.writableLength;
      if (socketBuffered > this.#maxBufferedBytes) cut(socketBuffered);
      else if (drains.size > 0) bytesLeft();
    };
    const writer = {
      flushQueued: (): void => {
        scheduled = false;
        flush();
      },
    };
    const connection: TransportConnection = {
      connectionId: target.connectionId,
      transport: 'ServerSentEvents',
      request: target.request,
      inherentKeepAlive: false,
      supportsReconnect: false,
      enableReconnect: () => {},
      send: (payload) => {
        if (ended) return;
        // A full pipe goes out first, whatever the flusher's turn.
        if (pendingBytes > 0 && pendingBytes + payload.byteLength > PIPE_WRITE_AT_BYTES) flush();
        if (ended) return;
        pending.push(payload);
        pendingBytes += payload.byteLength;
        if (!scheduled) {
          scheduled = true;
          this.#flusher.schedule(writer);
        }
        // Queued bytes count towards the bound like the socket's.
        if (pendingBytes + socketBuffered > this.#maxBufferedBytes && pendingBytes + (socketBuffered = res.writableLength) > this.#maxBufferedBytes) {
          cut(pendingBytes + socketBuffered);
        }
      },
      close: () => {
        flush();
        if (!ended) res.end();
      },
      abort: (error) => {
        if (error !== undefined && !ended) overflow ??= error;
        res.destroy();
      },
      get bufferedBytes() {
        return buffered();
      },
      maxBufferedBytes: this.#maxBufferedBytes,
      drained: (below) => {
        const done = drains.wait(below, buffered());
        bytesLeft();
        return done;
      },
    };
    const sink = target.handler.connect(connection);
    res.on('close', () => {
      ended = true;
      clearTimeout(drainTimer);
      drains.end();
      this.#open.delete(res);
      sink.closed(overflow);
    });
    return sink;
  }

  /** Ends every open event stream. */
  close(): void {
    for (const res of this.#open) res.end();
  }
}
