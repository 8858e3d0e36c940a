/**
 * The cluster bench's clients, in their own process: `count` connections split across two nodes
 * (even ones to the publishing node A, odd ones to node B). Lean raw-ws SignalR clients for the
 * Switchboard kinds and ASP.NET (subscribing to the `bench` topic for `sb-topic`), socket.io-client for Socket.IO.
 * IPC: {cmd: 'expect', count} → {cmd: 'received'} once every client has `count` more messages;
 * {cmd: 'latency'} → the one-way latencies (ms) of stamped messages received on node B (cross-node).
 */
import {io, type Socket} from 'socket.io-client';
import WebSocket from 'ws';
import type {Kind} from './node';

const [kind, portA, portB, countArg] = process.argv.slice(2) as [Kind, string, string, string];
const count = Number(countArg);
const RS = '\u001e';

const latencies: number[] = [];
let target = Number.POSITIVE_INFINITY;
let waiting = false;
let total = 0;

function onMessage(i: number, stamped: () => number | undefined): void {
  total++;
  if (i % 2 === 1) {
    const sentAt = stamped();
    if (sentAt !== undefined) latencies.push(performance.timeOrigin + performance.now() - sentAt);
  }
  if (waiting && total >= target) {
    waiting = false;
    process.send!({cmd: 'received'});
  }
}

function open(i: number): Promise<void> {
  const port = i % 2 === 0 ? portA : portB;
  return new Promise((resolve, reject) => {
    if (kind === 'sio-streams' || kind === 'sio-pubsub') {
      const socket: Socket = io(`http://127.0.0.1:${port}`, {transports: ['websocket'], reconnection: false});
      socket.on('connect', () => resolve());
      socket.on('connect_error', reject);
      socket.on('event', (m: {sentAt?: number}) => onMessage(i, () => m.sentAt));
      return;
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/hubs/events`, {perMessageDeflate: false});
    ws.on('error', reject);
    let phase: 'handshake' | 'subscribing' | 'live' = 'handshake';
    ws.on('open', () => ws.send(`{"protocol":"json","version":1}${RS}`));
    ws.on('message', (data) => {
      const text = data.toString();
      if (phase === 'handshake') {
        if (kind === 'sb-hub' || kind === 'aspnet-redis') {
          phase = 'live';
          resolve();
          return;
        }
        phase = 'subscribing';
        ws.send(`${JSON.stringify({type: 1, invocationId: '1', target: 'subscribe', arguments: ['bench', null]})}${RS}`);
        return;
      }
      for (const record of text.split(RS)) {
        if (record.startsWith('{"type":3')) {
          phase = 'live';
          resolve();
        } else if (record.startsWith('{"type":1')) onMessage(i, () => sentAt(record));
      }
    });
  });
}

function sentAt(text: string): number | undefined {
  const at = text.indexOf('"sentAt":');
  return at === -1 ? undefined : Number.parseFloat(text.slice(at + 9));
}

for (let i = 0; i < count; i += 200) {
  await Promise.all(Array.from({length: Math.min(200, count - i)}, (_, k) => open(i + k)));
}

process.on('message', (msg: {cmd: string; count?: number}) => {
  if (msg.cmd === 'expect') {
    target = total + msg.count! * count;
    waiting = true;
  } else if (msg.cmd === 'total') {
    waiting = false;
    process.send!({cmd: 'total', total});
  } else if (msg.cmd === 'latency') {
    process.send!({cmd: 'latency', samples: latencies.splice(0)});
  }
});
process.send!({cmd: 'ready'});
