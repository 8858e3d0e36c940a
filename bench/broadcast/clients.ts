/**
 * The bench's clients, in a process of their own: `count` connections of one kind to one server,
 * each counting what it receives. Lean on purpose (raw ws speaking the SignalR JSON protocol rather
 * than the official client), so the server, not the clients, is what is measured.
 *
 * IPC: {cmd: 'expect', count} → replies {cmd: 'received'} once every client has `count` more
 * messages; {cmd: 'latency'} → replies with the one-way latencies (ms) of stamped messages.
 * Unasked: {cmd: 'closed', index, code} when a connection closes after all were open (the harness
 * fails the run at once rather than wait for messages that cannot come). A connection that fails
 * to open ends the process with the reason; the process exits when the harness goes away.
 */
import {io, type Socket} from 'socket.io-client';
import WebSocket from 'ws';

const [kind, portArg, countArg] = process.argv.slice(2) as ['switchboard' | 'aspnet' | 'socketio' | 'ws', string, string];
const port = Number(portArg);
const count = Number(countArg);
const RS = '\u001e';

// Gone with the harness: a benchmark that failed or was killed leaves nothing behind.
process.on('disconnect', () => process.exit(0));

const received = new Array<number>(count).fill(0);
const latencies: number[] = [];
let target = Number.POSITIVE_INFINITY;
let waiting = false;
let total = 0;

function onMessage(i: number, stamped: () => number | undefined): void {
  received[i]!++;
  total++;
  const sentAt = stamped();
  if (sentAt !== undefined) latencies.push(performance.timeOrigin + performance.now() - sentAt);
  if (waiting && total >= target) {
    waiting = false;
    process.send!({cmd: 'received'});
  }
}

let ready = false;
/** Tells the harness a connection closed after all were open: a run that waits for it would stall. */
function lost(i: number, code: number | string): void {
  if (ready) process.send!({cmd: 'closed', index: i, code, perClient: [Math.min(...received), Math.max(...received)]});
}

/** Opens one connection and resolves once it is ready to receive; rejects if it closes first. */
function open(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (kind === 'socketio') {
      const socket: Socket = io(`http://127.0.0.1:${port}`, {transports: ['websocket'], reconnection: false});
      socket.on('connect', () => resolve());
      socket.on('connect_error', reject);
      socket.on('disconnect', (reason) => lost(i, reason));
      socket.on('event', (m: {sentAt?: number}) => onMessage(i, () => m.sentAt));
      return;
    }
    // Both SignalR hubs get the same client: WebSocket straight to the hub (no negotiate), JSON protocol.
    const path = kind === 'ws' ? '/' : '/hubs/events';
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {perMessageDeflate: false});
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`connection ${i}: upgrade refused with HTTP ${res.statusCode}`)));
    ws.on('close', (code) => {
      reject(new Error(`connection ${i} closed with code ${code} before it was ready`));
      lost(i, code);
    });
    if (kind === 'ws') {
      ws.on('open', () => resolve());
      ws.on('message', (data) => onMessage(i, () => sentAt(data.toString())));
      return;
    }
    let handshaken = false;
    ws.on('open', () => ws.send(`{"protocol":"json","version":1}${RS}`));
    ws.on('message', (data) => {
      const text = data.toString();
      if (!handshaken) {
        handshaken = true;
        resolve();
        return;
      }
      // One transport message may hold several records; pings (type 6) are not events. Walked in
      // place (no split), so these clients do no more per message than the raw ws ones.
      for (let at = 0; at < text.length; ) {
        let end = text.indexOf(RS, at);
        if (end === -1) end = text.length;
        if (text.startsWith('{"type":1', at)) {
          const start = at;
          onMessage(i, () => sentAt(text, start, end));
        }
        at = end + 1;
      }
    });
  });
}

/**
 * The `sentAt` stamp of the message in `text` (from `start` to `end`), read without parsing the
 * JSON. The search stays within the record (a slice is a view, not a copy): searching the rest of
 * a frame of hundreds of records for every record would make the clients, not the server, the
 * measure of a burst.
 */
function sentAt(text: string, start = 0, end = text.length): number | undefined {
  const record = start === 0 && end === text.length ? text : text.slice(start, end);
  const at = record.indexOf('"sentAt":');
  return at === -1 ? undefined : Number.parseFloat(record.slice(at + 9));
}

// Open in waves, so the server's accept queue is not flooded. A connection that fails ends the
// process with the reason (the harness reports this process's exit).
try {
  for (let i = 0; i < count; i += 200) {
    await Promise.all(Array.from({length: Math.min(200, count - i)}, (_, k) => open(i + k)));
  }
} catch (error) {
  console.error(`bench clients (${kind}): ${(error as Error).message}`);
  process.exit(1);
}
ready = true;

process.on('message', (msg: {cmd: string; count?: number}) => {
  if (msg.cmd === 'expect') {
    target = total + msg.count! * count;
    waiting = true;
    if (total >= target) {
      waiting = false;
      process.send!({cmd: 'received'});
    }
  } else if (msg.cmd === 'status') {
    process.send!({cmd: 'status', total, target, perClient: [Math.min(...received), Math.max(...received)]});
  } else if (msg.cmd === 'latency') {
    process.send!({cmd: 'latency', samples: latencies.splice(0)});
  } else if (msg.cmd === 'exit') {
    process.exit(0);
  }
});
process.send!({cmd: 'ready'});
