/**
 * Clients for the node-kill measurement: `count` connections to node B; when B dies each one
 * reconnects to node A at once. Switchboard clients resubscribe from the last offset they saw;
 * Socket.IO clients simply connect again (its connection state recovery cannot cross a node crash).
 * IPC: {cmd: 'killed', at} marks the kill time; {cmd: 'report'} → per-client sequences summary.
 */
import {io} from 'socket.io-client';
import WebSocket from 'ws';
import type {Kind} from './node';

const [kind, portA, portB, countArg] = process.argv.slice(2) as [Kind, string, string, string];
const count = Number(countArg);
const RS = '\u001e';

interface Client {
  seqs: number[];
  offset: string | null;
  resumedAt?: number;
}
const clients: Client[] = Array.from({length: count}, () => ({seqs: [], offset: null}));
let killedAt: number | undefined;

function seqOf(text: string): number {
  const at = text.indexOf('"seq":');
  return Number.parseInt(text.slice(at + 6), 10);
}

function received(c: Client, seq: number): void {
  c.seqs.push(seq);
  if (killedAt !== undefined && c.resumedAt === undefined) c.resumedAt = performance.now();
}

function connectSwitchboard(c: Client, port: string, first: boolean): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/hubs/events`, {perMessageDeflate: false});
    let live = false;
    ws.on('open', () => ws.send(`{"protocol":"json","version":1}${RS}`));
    ws.on('message', (data) => {
      const text = data.toString();
      if (!live) {
        live = true;
        ws.send(`${JSON.stringify({type: 1, invocationId: '1', target: 'subscribe', arguments: ['bench', c.offset]})}${RS}`);
        return;
      }
      for (const record of text.split(RS)) {
        if (record.startsWith('{"type":3')) resolve();
        else if (record.startsWith('{"type":1')) {
          const at = record.indexOf('"offset":"');
          c.offset = record.slice(at + 10, record.indexOf('"', at + 10));
          received(c, seqOf(record));
        }
      }
    });
    ws.on('error', () => {});
    if (first) ws.on('close', () => void connectSwitchboard(c, portA, false));
  });
}

function connectSocketIO(c: Client, port: string, first: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = io(`http://127.0.0.1:${port}`, {transports: ['websocket'], reconnection: false});
    socket.on('connect', () => resolve());
    socket.on('event', (m: {seq: number}) => received(c, m.seq));
    if (first) socket.on('disconnect', () => void connectSocketIO(c, portA, false));
  });
}

for (let i = 0; i < count; i += 100) {
  await Promise.all(
    clients.slice(i, i + 100).map((c) => (kind === 'sb-topic' ? connectSwitchboard(c, portB, true) : connectSocketIO(c, portB, true))),
  );
}

process.on('message', (msg: {cmd: string}) => {
  if (msg.cmd === 'killed') killedAt = performance.now();
  if (msg.cmd !== 'report') return;
  let gaps = 0;
  let duplicates = 0;
  const resumeMs: number[] = [];
  for (const c of clients) {
    const seen = new Set<number>();
    for (const s of c.seqs) {
      if (seen.has(s)) duplicates++;
      seen.add(s);
    }
    const first = Math.min(...c.seqs);
    const last = Math.max(...c.seqs);
    gaps += last - first + 1 - seen.size;
    if (c.resumedAt !== undefined && killedAt !== undefined) resumeMs.push(c.resumedAt - killedAt);
  }
  process.send!({cmd: 'report', gaps, duplicates, resumeMs, resumed: resumeMs.length});
});
process.send!({cmd: 'ready'});
