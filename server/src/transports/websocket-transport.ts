import type {IncomingMessage} from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type RawData, type WebSocket} from 'ws';
import type {ConnectionHandler, ConnectionRequest, TransportConnection} from './transport-connection';

/** WebSocket close code for a normal close: the only one the SignalR client does not treat as an error. */
const NORMAL_CLOSURE = 1000;

/**
 * The WebSockets transport over `ws`: text frames for text protocols, binary frames for binary ones.
 * It moves bytes between a socket and the hub's sink, nothing more.
 */
export class WebSocketTransport {
  readonly #wss: WebSocketServer;

  constructor(options: {maxPayload: number}) {
    // No permessage-deflate: it costs CPU and memory per connection for small event messages.
    this.#wss = new WebSocketServer({noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false});
  }

  /** Completes the upgrade and hands the new connection to the hub. */
  accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: {connectionId: string; request: ConnectionRequest; handler: ConnectionHandler},
  ): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, target.connectionId, target.request, target.handler));
  }

  /** Closes every open socket. */
  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }

  #open(ws: WebSocket, connectionId: string, request: ConnectionRequest, handler: ConnectionHandler): void {
    let closedByServer = false;
    const connection: TransportConnection = {
      connectionId,
      transport: 'WebSockets',
      request,
      send: (payload, binary) => {
        if (ws.readyState === ws.OPEN) ws.send(payload, {binary});
      },
      close: () => {
        closedByServer = true;
        ws.close(NORMAL_CLOSURE);
      },
    };
    const sink = handler.connect(connection);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      sink.receive(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'));
    });
    ws.on('error', () => {
      // 'close' follows every 'error'; the sink hears of it there.
    });
    ws.on('close', (code: number) => {
      const clean = closedByServer || code === NORMAL_CLOSURE || code === 1001;
      sink.closed(clean ? undefined : new Error(`WebSocket closed with code ${code}`));
    });
  }
}
