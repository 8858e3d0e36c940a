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

/** Settings of {@link LongPollingTransport}. */
export interface LongPollingOptions {
  /** How long a poll waits for data before answering 200 with no body; default 90 s (ASP.NET's). */
  readonly pollTimeoutMs?: number;
  /** A connection with no poll outstanding for this long is gone; default 15 s. */
  readonly disconnectTimeoutMs?: number;
  /** Bytes queued for the next poll past which the connection is cut off; default 1 MB. */
  readonly maxBufferedBytes?: number;
}

interface Poll {
  readonly res: ServerResponse;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** One long-polling connection: outgoing messages queue until a poll takes them. */
class LongPollingConnection implements TransportConnection {
  readonly transport = 'LongPolling' as const;
  readonly inherentKeepAlive = true;
  readonly supportsReconnect = false;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #cutOff = false;
  #poll: Poll | undefined;
  #closing = false;
  #finished = false;
  sink: ConnectionSink | undefined;
  readonly #drains = new DrainWaiters();
  /** When the last poll ended; undefined while one is outstanding. */
  idleSince: number | undefined = Date.now();

  constructor(
    readonly connectionId: string,
    readonly request: ConnectionRequest,
    readonly pollTimeoutMs: number,
    readonly onFinished: () => void,
    readonly maxBufferedBytes: number = DEFAULT_MAX_BUFFERED_BYTES,
  ) {}

  enableReconnect(): void {}

  abort(error?: Error): void {
    this.#poll?.res.destroy();
    this.finish(error ?? new Error('Connection aborted.'));
  }

  /** Bytes queued for the next poll. */
  get bufferedBytes(): number {
    return this.#queued;
  }

  /** Resolves once a poll took the queue below `below`, or the connection ended. */
  drained(below: number): Promise<void> {
    return this.#drains.wait(below, this.#finished ? 0 : this.#queued);
  }

  send(payload: Uint8Array): void {
    if (this.#finished || this.#cutOff) return;
    this.#queue.push(payload);
    this.#queued += payload.byteLength;
    if (this.#poll !== undefined) this.#flush(this.#poll);
    // A client that stops polling would otherwise have its queue grow until the disconnect timeout.
    else if (this.#queued > this.maxBufferedBytes) {
      const error = new SendBufferOverflowError(this.maxBufferedBytes, this.#queued);
      this.#queue.length = 0;
      this.#queued = 0;
      this.#cutOff = true;
      // Not from inside the hub's send loop: the hub hears of the end on the next tick.
      queueMicrotask(() => this.finish(error));
    }
  }

  /**
   * Server side close: a poll takes what is still queued (the Close message), and the poll after
   * that gets 204 and ends the connection.
   */
  close(): void {
    this.#closing = true;
    if (this.#poll !== undefined && this.#queue.length === 0) this.finish();
  }

  /** A new poll: answers at once when data is queued or the connection is ending, else waits. */
  poll(req: IncomingMessage, res: ServerResponse): void {
    // A newer poll replaces an outstanding one, which ends with 204.
    if (this.#poll !== undefined) this.#answer(this.#poll, 204);
    if (this.#finished) {
      res.writeHead(204).end();
      return;
    }
    const poll: Poll = {res, timer: setTimeout(() => this.#answer(poll, 200), this.pollTimeoutMs)};
    this.#poll = poll;
    this.idleSince = undefined;
    req.on('close', () => {
      // The client went away mid-poll: forget the poll, keep the data for the next one.
      if (this.#poll === poll) this.#end(poll);
    });
    if (this.#queue.length > 0) this.#flush(poll);
    else if (this.#closing) {
      this.#answer(poll, 204);
      this.finish();
    }
  }

  /** Ends the connection for good: a pending poll gets 204 and the hub hears it closed. */
  finish(error?: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#poll !== undefined) this.#answer(this.#poll, 204);
    this.#queue.length = 0;
    this.#queued = 0;
    this.#drains.end();
    this.onFinished();
    this.sink?.closed(error);
  }

  get finished(): boolean {
    return this.#finished;
  }

  #flush(poll: Poll): void {
    const body = Buffer.concat(this.#queue.splice(0));
    this.#queued = 0;
    this.#drains.check(0);
    this.#end(poll);
    poll.res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(body.length)});
    poll.res.end(body);
  }

  #answer(poll: Poll, status: 200 | 204): void {
    this.#end(poll);
    if (status === 200) poll.res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': '0'}).end();
    else poll.res.writeHead(204).end();
  }

  #end(poll: Poll): void {
    clearTimeout(poll.timer);
    if (this.#poll === poll) {
      this.#poll = undefined;
      this.idleSince = Date.now();
    }
  }
}

/**
 * The Long Polling transport: each GET takes what the server has queued (or waits for it up to the
 * poll timeout); the client sends with POST (handled by the endpoint) and ends with DELETE.
 */
export class LongPollingTransport {
  readonly #connections = new Map<string, LongPollingConnection>();
  readonly #pollTimeoutMs: number;
  readonly #disconnectTimeoutMs: number;
  readonly #maxBufferedBytes: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: LongPollingOptions = {}) {
    this.#pollTimeoutMs = options.pollTimeoutMs ?? 90_000;
    this.#disconnectTimeoutMs = options.disconnectTimeoutMs ?? 15_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /**
   * Handles a poll for the connection `token`. The first poll creates the connection, hands it to
   * the hub and answers 200 at once with no body, as the client expects.
   */
  poll(
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
    target: {connectionId: string; request: ConnectionRequest; handler: ConnectionHandler; onClosed: () => void},
  ): ConnectionSink | undefined {
    const existing = this.#connections.get(token);
    if (existing !== undefined) {
      existing.poll(req, res);
      return undefined;
    }
    const connection = new LongPollingConnection(target.connectionId, target.request, this.#pollTimeoutMs, () => {
      this.#connections.delete(token);
      target.onClosed();
    }, this.#maxBufferedBytes);
    this.#connections.set(token, connection);
    this.#startSweeper();
    connection.sink = target.handler.connect(connection);
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': '0'}).end();
    return connection.sink;
  }

  /** Ends the connection `token` at the client's request (DELETE); false when there is none. */
  delete(token: string): boolean {
    const connection = this.#connections.get(token);
    if (connection === undefined) return false;
    connection.finish();
    return true;
  }

  /** Ends every connection. */
  close(): void {
    for (const connection of [...this.#connections.values()]) connection.finish();
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const c of [...this.#connections.values()]) {
        if (c.idleSince !== undefined && now - c.idleSince > this.#disconnectTimeoutMs) {
          c.finish(new Error('Long polling client stopped polling.'));
        }
      }
      if (this.#connections.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, Math.max(10, Math.min(1000, this.#disconnectTimeoutMs / 4)));
    this.#sweeper.unref();
  }
}
