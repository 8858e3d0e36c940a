/**
 * The soak's clients, in their own process: raw WebSocket SignalR JSON connections (what the
 * official client sends, without its per-connection overhead), each following one topic, pinging
 * as the official client does, and some reconnecting every second from their last offset.
 */
import WebSocket from 'ws';

const RS = '\u001e';

interface Options {
  url: string;
  connections: number;
  topics: number;
  churnPerSecond: number;
}

class Client {
  received = 0;
  #offset: string | null = null;
  #ws: WebSocket | undefined;
  #pinger: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly url: string,
    readonly topic: string,
  ) {}

  /** Connects, handshakes and subscribes (from the last offset seen, after a reconnect). */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/hubs/events`);
      this.#ws = ws;
      let subscribed = false;
      ws.on('open', () => {
        ws.send(`{"protocol":"json","version":1}${RS}`);
        ws.send(`{"type":1,"invocationId":"s","target":"subscribe","arguments":[${JSON.stringify(this.topic)},${JSON.stringify(this.#offset)}]}${RS}`);
      });
      ws.on('message', (data) => {
        for (const record of data.toString().split(RS)) {
          if (record === '' || record === '{}') continue;
          const message = JSON.parse(record) as {type: number; target?: string; arguments?: [{offset: string}]; invocationId?: string};
          if (message.type === 1 && message.target === 'event') {
            this.received++;
            this.#offset = message.arguments![0].offset;
          } else if (message.type === 3 && message.invocationId === 's' && !subscribed) {
            subscribed = true;
            resolve();
          }
        }
      });
      ws.on('error', (error) => {
        if (!subscribed) reject(error);
      });
      // The official client pings after 15 s of its own silence; this one does it every 10 s.
      this.#pinger = setInterval(() => ws.readyState === ws.OPEN && ws.send(`{"type":6}${RS}`), 10_000);
    });
  }

  close(): void {
    clearInterval(this.#pinger);
    this.#ws?.close();
  }
}

let clients: Client[] = [];
let churn: ReturnType<typeof setInterval> | undefined;
let reconnects = 0;

process.on('message', async (message: {cmd: string} & Partial<Options>) => {
  if (message.cmd === 'open') {
    const o = message as Options;
    clients = Array.from({length: o.connections}, (_, i) => new Client(o.url, `soak-${i % o.topics}`));
    // In batches, so the server is not handed a thousand handshakes in one turn.
    for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.open()));
    let next = 0;
    churn = setInterval(() => {
      for (let k = 0; k < o.churnPerSecond; k++) {
        const c = clients[next++ % clients.length]!;
        c.close();
        reconnects++;
        void c.open().catch(() => {});
      }
    }, 1000);
    process.send!({cmd: 'opened'});
  } else if (message.cmd === 'count') {
    // A running count, sampled by the soak once a minute, so a stall shows in the table.
    process.send!({cmd: 'count', received: clients.reduce((n, c) => n + c.received, 0), reconnects});
  } else if (message.cmd === 'report') {
    clearInterval(churn);
    const received = clients.reduce((n, c) => n + c.received, 0);
    for (const c of clients) c.close();
    process.send!({cmd: 'report', received, reconnects});
  }
});
