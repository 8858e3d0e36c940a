import type {IncomingMessage, ServerResponse} from 'node:http';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  SendBufferOverflowError,
  type ConnectionHandler,
  type ConnectionRequest,
  type ConnectionSink,
  type TransportConnection,
} from './transport-connection.js';

const decoder = new TextDecoder();

/**
 * The Server-Sent Events transport: the server's half is one long `text/event-stream` response; the
 * client sends with POST (handled by the endpoint). Text protocols only.
 */
export class ServerSentEventsTransport {
  readonly #open = new Set<ServerResponse>();
  readonly #maxBufferedBytes: number;

  /** `maxBufferedBytes`: unsent bytes of one stream past which it is cut off (default 1 MB). */
  constructor(options: {maxBufferedBytes?: number} = {}) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
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
    let overflow: SendBufferOverflowError | undefined;
    // Messages of one turn of the event loop go out as one event: fewer writes, same records.
    let pending: Uint8Array[] = [];
    const flush = (): void => {
      const parts = pending;
      pending = [];
      if (ended || parts.length === 0) return;
      // A line break inside the message starts a new `data:` line.
      const lines = decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts)).split('\n');
      res.write(`${lines.map((line) => `data: ${line}`).join('\r\n')}\r\n\r\n`);
      // writableLength counts the response's buffer and its socket's: what the client has not taken.
      const buffered = res.writableLength;
      if (buffered > this.#maxBufferedBytes) {
        overflow = new SendBufferOverflowError(this.#maxBufferedBytes, buffered);
        ended = true;
        res.destroy();
      }
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
        if (pending.length === 0) queueMicrotask(flush);
        pending.push(payload);
      },
      close: () => {
        flush();
        if (!ended) res.end();
      },
      abort: () => res.destroy(),
    };
    const sink = target.handler.connect(connection);
    res.on('close', () => {
      ended = true;
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
