/**
 * The RabbitMQ benchmark's browser-protocol clients, in a process of their own. argv: kind, port,
 * count, routing key (Web-STOMP clients subscribe to `/exchange/bench/<key>`).
 *
 * - `switchboard`: raw `ws` speaking the SignalR JSON protocol (as bench/broadcast), subscribed to
 *   the `bench` topic; a connection that closes reconnects and resubscribes from the last offset it saw.
 * - `stomp`: `@stomp/stompjs` over `ws`, the way a page uses RabbitMQ's Web-STOMP plugin; it
 *   reconnects after 500 ms and subscribes again (a fresh queue: what was published meanwhile is gone).
 * - `socketio`: `socket.io-client` over WebSocket; it reconnects by itself.
 *
 * IPC: {cmd: 'expect', count} → {cmd: 'received'} once every client has `count` more messages;
 * {cmd: 'status'}; {cmd: 'latency'} → the one-way latencies (ms) since the last ask;
 * {cmd: 'track'} → starts recording sequence numbers (and forgets earlier ones);
 * {cmd: 'losses', total} → counts of sequence numbers 0..total-1 not received and of duplicates.
 */
import {Client as StompClient} from '@stomp/stompjs';
import {io} from 'socket.io-client';
import WebSocket from 'ws';
import {TOPIC} from './shared';

const [kind, port, countArg, key] = process.argv.slice(2) as ['switchboard' | 'stomp' | 'socketio', string, string, string];
const count = Number(countArg);
const RS = '\u001e';
process.on('disconnect', () => process.exit(0));

interface Client {
  received: number;
  seqs: Set<number>;
  duplicates: number;
  offset: string | null;
}
const clients: Client[] = Array.from({length: count}, () => ({received: 0, seqs: new Set(), duplicates: 0, offset: null}));
const latencies: number[] = [];
let total = 0;
/** Connections that closed after they were up (each client reconnects by itself): reported in status. */
let disconnects = 0;
let stompErrors = '';
let target = Number.POSITIVE_INFINITY;
let waiting = false;
/** Sequence numbers are kept only for the restart measurement (1,000 clients × bursts would be millions). */
let tracking = false;

/** Reads a number field from JSON text without parsing it (the server, not the clients, is measured). */
function field(text: string, name: string): number {
  const at = text.indexOf(`"${name}":`);
  return at === -1 ? Number.NaN : Number.parseFloat(text.slice(at + name.length + 3));
}

function onMessage(c: Client, seq: number, sentAt: number): void {
  c.received++;
  total++;
  if (tracking) {
    if (c.seqs.has(seq)) c.duplicates++;
    else c.seqs.add(seq);
  }
  if (!Number.isNaN(sentAt)) latencies.push(performance.timeOrigin + performance.now() - sentAt);
  if (waiting && total >= target) {
    waiting = false;
    process.send!({cmd: 'received'});
  }
}

function openSignalR(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/hubs/events`, {perMessageDeflate: false});
    let live = false;
    ws.on('open', () => ws.send(`{"protocol":"json","version":1}${RS}`));
    ws.on('message', (data) => {
      const text = data.toString();
      for (let at = 0; at < text.length; ) {
        let end = text.indexOf(RS, at);
        if (end === -1) end = text.length;
        const record = text.slice(at, end);
        at = end + 1;
        if (record === '{}') {
          ws.send(`${JSON.stringify({type: 1, invocationId: '1', target: 'subscribe', arguments: [TOPIC, c.offset]})}${RS}`);
        } else if (record.startsWith('{"type":3')) {
          live = true;
          resolve();
        } else if (record.startsWith('{"type":1')) {
          const o = record.indexOf('"offset":"');
          if (o !== -1) c.offset = record.slice(o + 10, record.indexOf('"', o + 10));
          onMessage(c, field(record, 'seq'), field(record, 'sentAt'));
        }
      }
    });
    ws.on('error', (error) => {
      if (!live) reject(error);
    });
    ws.on('close', () => {
      if (live) disconnects++;
      if (live) setTimeout(() => void openSignalR(c).catch(() => {}), 500);
    });
  });
}

let receipts = 0;
function openStomp(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const stomp = new StompClient({
      webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${port}/ws`, {perMessageDeflate: false}),
      connectHeaders: {login: 'guest', passcode: 'guest'},
      reconnectDelay: 500,
      // Outgoing heart-beats as a page sends them (stompjs's default): Web-STOMP closes a connection
      // that sent nothing for 60 s (code 1000). None asked of the broker: a busy client process
      // must not drop connections over a late heart-beat.
      heartbeatIncoming: 0,
      heartbeatOutgoing: 10_000,
      debug: () => {},
      onConnect: () => {
        // Ready once the broker confirms the subscription (its queue is bound): a receipt.
        const receipt = `sub-${++receipts}`;
        stomp.watchForReceipt(receipt, () => resolve());
        stomp.subscribe(`/exchange/bench/${key}`, (message) => onMessage(c, field(message.body, 'seq'), field(message.body, 'sentAt')), {id: 'bench', receipt});
      },
      onWebSocketClose: (event: {code?: number}) => {
        disconnects++;
        stompErrors = `last close code ${event.code}`;
      },
      onStompError: (frame) => reject(new Error(`STOMP error: ${frame.headers['message'] ?? frame.body}`)),
    });
    stomp.activate();
  });
}

function openSocketIO(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {transports: ['websocket'], reconnectionDelay: 500});
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
    socket.on('disconnect', () => disconnects++);
    socket.on('event', (m: {data: {seq: number; sentAt: number}}) => onMessage(c, m.data.seq, m.data.sentAt));
  });
}

const open = kind === 'switchboard' ? openSignalR : kind === 'stomp' ? openStomp : openSocketIO;
const deadline = setTimeout(() => {
  console.error(`bench clients (${kind}): not all ${count} connected within 120 s`);
  process.exit(1);
}, 120_000);
try {
  for (let i = 0; i < count; i += 100) await Promise.all(clients.slice(i, i + 100).map(open));
} catch (error) {
  console.error(`bench clients (${kind}): ${(error as Error).message}`);
  process.exit(1);
}
clearTimeout(deadline);

process.on('message', (msg: {cmd: string; count?: number; total?: number}) => {
  if (msg.cmd === 'expect') {
    target = total + msg.count! * count;
    waiting = total < target;
    if (!waiting) process.send!({cmd: 'received'});
  } else if (msg.cmd === 'status') {
    const per = clients.map((c) => c.received);
    process.send!({cmd: 'status', total, target, perClient: [Math.min(...per), Math.max(...per)], disconnects, stompErrors});
  } else if (msg.cmd === 'latency') {
    process.send!({cmd: 'latency', samples: latencies.splice(0)});
  } else if (msg.cmd === 'losses') {
    let missed = 0;
    let clientsMissing = 0;
    let duplicates = 0;
    for (const c of clients) {
      let gone = 0;
      for (let seq = 0; seq < msg.total!; seq++) if (!c.seqs.has(seq)) gone++;
      missed += gone;
      if (gone > 0) clientsMissing++;
      duplicates += c.duplicates;
    }
    process.send!({cmd: 'losses', missed, clientsMissing, duplicates});
  } else if (msg.cmd === 'track') {
    tracking = true;
    for (const c of clients) {
      c.seqs.clear();
      c.duplicates = 0;
    }
    process.send!({cmd: 'tracking'});
  }
});
process.send!({cmd: 'ready'});
