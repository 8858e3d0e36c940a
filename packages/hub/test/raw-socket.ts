import {request, type IncomingMessage} from 'node:http';
import WebSocket from 'ws';

const RS = '\u001e';

/** A raw WebSocket to the hub (no SignalR client), recording every frame the server sends. */
export class RawSocket {
  readonly frames: string[] = [];
  readonly closed: Promise<number>;
  readonly #ws: WebSocket;
  readonly #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? `<binary ${(data as Buffer).length}>` : data.toString());
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  /** Opens a socket to the hub at `url` (skipping negotiate). */
  static async open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hubs/events`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawSocket(ws);
  }

  /** Opens a socket and completes a JSON handshake. */
  static async handshaken(url: string): Promise<RawSocket> {
    const socket = await RawSocket.open(url);
    socket.send(`{"protocol":"json","version":1}${RS}`);
    await socket.next();
    return socket;
  }

  send(data: string | Buffer): void {
    this.#ws.send(data);
  }

  /** Resolves with the next frame (or the oldest not yet taken). */
  async next(): Promise<string> {
    while (this.frames.length === 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.frames.shift()!;
  }

  /**
   * Resolves with the next hub message of `type`, skipping others (pings). A frame may carry several
   * records (the hub coalesces what it sends in one turn): the records after the one returned are
   * kept, as a frame of their own at the front, for the next call.
   */
  async nextMessage(type: number): Promise<Record<string, unknown>> {
    for (;;) {
      const records = (await this.next()).split(RS).filter(Boolean);
      for (let i = 0; i < records.length; i++) {
        const message = JSON.parse(records[i]!) as Record<string, unknown>;
        if (message['type'] !== type) continue;
        const rest = records.slice(i + 1);
        if (rest.length > 0) this.frames.unshift(rest.map((r) => r + RS).join(''));
        return message;
      }
    }
  }

  close(): void {
    this.#ws.close();
  }
}

/** The HTTP status with which the server refuses a WebSocket upgrade at `url`, or 101 if it accepts. */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', () => {});
  });
}

/**
 * Negotiates a connection at `url` (the server's base URL) and opens its raw Server-Sent Events
 * stream; `hubUrl` is the connection's URL, where its messages are POSTed.
 */
export async function openEventStream(url: string): Promise<{stream: IncomingMessage; hubUrl: string}> {
  const negotiated = (await (await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as {connectionToken: string};
  const hubUrl = `${url}/hubs/events?id=${encodeURIComponent(negotiated.connectionToken)}`;
  const stream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(hubUrl, {headers: {accept: 'text/event-stream'}}, resolve);
    req.on('error', reject);
    req.end();
  });
  return {stream, hubUrl};
}

