/**
 * Clients for the node-kill measurement: `count` connections to node B; when B dies each one
 * reconnects to node A, the first attempt at once and failed attempts after the page bridge's own
 * retry delays (packages/signalr retry-policy). Switchboard clients resubscribe from the last offset
 * they saw; ASP.NET and Socket.IO clients simply connect again (ASP.NET's Redis backplane is plain
 * pub/sub; Socket.IO's connection state recovery cannot cross a node crash).
 * SignalR clients speak the JSON hub protocol over raw WebSockets, without negotiate (the official
 * client's `skipNegotiation`) unless BENCH_NEGOTIATE=1, which makes them negotiate first as the
 * official client does by default.
 * IPC: see ./resume-report.ts.
 */
import WebSocket from 'ws';
import {io} from 'socket.io-client';
import {retryDelay} from '../../packages/signalr/src/lib/retry-policy.js';
import type {Kind} from './node';
import {answerReports, now, type Client} from './resume-report';

const [kind, portA, portB, countArg] = process.argv.slice(2) as [Kind, string, string, string];
const count = Number(countArg);
const RS = '\u001e';
const NEGOTIATE = process.env['BENCH_NEGOTIATE'] === '1' && kind !== 'sio-streams' && kind !== 'sio-pubsub';

const clients: Client[] = Array.from({length: count}, () => ({seqs: [], offset: null, live: false, attempts: 0}));

function seqOf(text: string): number {
  const at = text.indexOf('"seq":');
  return Number.parseInt(text.slice(at + 6), 10);
}

function received(c: Client, seq: number, first: boolean): void {
  c.seqs.push(seq);
  if (!first && c.firstAt === undefined) c.firstAt = now();
}

/** After the node died: tries node A again after the bridge's delay for this attempt. */
function retry(c: Client): void {
  const wait = retryDelay(++c.attempts) ?? 0;
  setTimeout(() => void connect(c, portA, false), wait);
}

function lost(c: Client): void {
  if (!c.live) return;
  c.live = false;
  c.closedAt ??= now();
  retry(c);
}

async function signalrUrl(c: Client, port: string, first: boolean): Promise<string> {
  const base = `127.0.0.1:${port}/hubs/events`;
  if (!NEGOTIATE) return `ws://${base}`;
  const answer = (await (await fetch(`http://${base}/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as {connectionToken: string};
  if (!first) c.negotiatedAt ??= now();
  return `ws://${base}?id=${encodeURIComponent(answer.connectionToken)}`;
}

async function connectSignalR(c: Client, port: string, first: boolean): Promise<void> {
  let url: string;
  try {
    url = await signalrUrl(c, port, first);
  } catch (error) {
    if (first) throw error;
    return retry(c);
  }
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {perMessageDeflate: false});
    let phase: 'handshake' | 'subscribing' | 'live' = 'handshake';
    const up = (): void => {
      phase = 'live';
      c.live = true;
      if (!first) c.subscribedAt ??= now();
      resolve();
    };
    ws.on('open', () => {
      if (!first) c.openedAt ??= now();
      ws.send(`{"protocol":"json","version":1}${RS}`);
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (phase === 'handshake') {
        if (!first) c.connectedAt ??= now();
        if (kind !== 'sb-topic') return up();
        phase = 'subscribing';
        if (!first) c.subscribeSentAt ??= now();
        ws.send(`${JSON.stringify({type: 1, invocationId: '1', target: 'subscribe', arguments: ['bench', c.offset]})}${RS}`);
        return;
      }
      for (const record of text.split(RS)) {
        if (record.startsWith('{"type":3')) up();
        else if (record.startsWith('{"type":1')) {
          const at = record.indexOf('"offset":"');
          if (at !== -1) c.offset = record.slice(at + 10, record.indexOf('"', at + 10));
          received(c, seqOf(record), first);
        }
      }
    });
    ws.on('error', (error) => {
      if (first && phase !== 'live') reject(error);
    });
    ws.on('close', () => {
      if (phase === 'live') lost(c);
      else if (!first) retry(c);
    });
  });
}

function connectSocketIO(c: Client, port: string, first: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {transports: ['websocket'], reconnection: false});
    socket.on('connect', () => {
      c.live = true;
      if (!first) c.connectedAt ??= c.subscribedAt ??= now();
      resolve();
    });
    socket.on('connect_error', (error) => (first ? reject(error) : retry(c)));
    socket.on('event', (m: {seq: number}) => received(c, m.seq, first));
    socket.on('disconnect', () => lost(c));
  });
}

function connect(c: Client, port: string, first: boolean): Promise<void> {
  return kind === 'sio-streams' || kind === 'sio-pubsub' ? connectSocketIO(c, port, first) : connectSignalR(c, port, first);
}

for (let i = 0; i < count; i += 100) {
  await Promise.all(clients.slice(i, i + 100).map((c) => connect(c, portB, true)));
}

answerReports(clients);
process.send!({cmd: 'ready'});
