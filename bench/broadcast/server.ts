/**
 * One broadcast server under test, in its own process so its CPU time is its own. Started by
 * bench/broadcast/run.ts with the kind as argument; driven over IPC:
 *   {cmd: 'burst', count, batch, payload}  broadcast `count` messages, `batch` per turn of the event loop
 *   {cmd: 'rate', perSecond, durationMs, payload}  broadcast at a fixed rate, stamping each message
 *   {cmd: 'cpu'}                     reply with the process's CPU time so far (µs)
 *   {cmd: 'memory'}                  collect garbage and reply with memory usage
 *   {cmd: 'exit'}                    exit normally (profilers write their output)
 */
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {shopRegistry} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {Server as SocketIOServer} from 'socket.io';
import {WebSocketServer} from 'ws';
import {SwitchboardServer} from '@switchboard/hub';
import {cpuMicros, sendAtRate} from '../server-commands';

type Kind = 'switchboard' | 'socketio' | 'ws';
const kind = process.argv[2] as Kind;
// Gone with the harness (a normal exit, so a --cpu-prof profile is still written).
process.on('disconnect', () => process.exit(0));


let broadcast: (message: unknown) => void;
let port: number;
let clientCount: () => number;

if (kind === 'switchboard') {
  // Long keep-alive and client timeout: idle bench clients send nothing.
  const server = new SwitchboardServer({
    registry: shopRegistry(),
    logger: pino({level: 'silent'}),
    hub: {keepAliveIntervalMs: 600_000, clientTimeoutMs: 600_000},
  });
  await server.listen(0);
  port = server.port;
  broadcast = (message) => server.hub.clients.all.send('event', message);
  clientCount = () => server.hub.connectionCount;
} else if (kind === 'socketio') {
  const http = createServer();
  const io = new SocketIOServer(http, {transports: ['websocket'], serveClient: false, pingInterval: 600_000, pingTimeout: 600_000});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  broadcast = (message) => io.emit('event', message);
  clientCount = () => io.engine.clientsCount;
} else {
  const http = createServer();
  const wss = new WebSocketServer({server: http, perMessageDeflate: false});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  // The best practice for raw ws: serialize and encode once, send the same buffer to every socket.
  broadcast = (message) => {
    const data = Buffer.from(JSON.stringify(message));
    for (const ws of wss.clients) ws.send(data, {binary: false});
  };
  clientCount = () => wss.clients.size;
}

process.on('message', (msg: {cmd: string; count?: number; batch?: number; perSecond?: number; durationMs?: number; payload?: Record<string, unknown>}) => {
  switch (msg.cmd) {
    case 'burst': {
      let sent = 0;
      const step = (): void => {
        for (let i = 0; i < msg.batch! && sent < msg.count!; i++, sent++) broadcast({...msg.payload, seq: sent});
        if (sent < msg.count!) setImmediate(step);
        else process.send!({cmd: 'burst-sent'});
      };
      step();
      return;
    }
    case 'rate':
      sendAtRate(broadcast, msg.payload, msg.perSecond!, msg.durationMs!);
      return;
    case 'cpu':
      process.send!({cmd: 'cpu', micros: cpuMicros(), clients: clientCount()});
      return;
    case 'exit':
      // A normal exit, so --cpu-prof can write its profile.
      process.exit(0);
      return;
    case 'memory':
      globalThis.gc?.();
      globalThis.gc?.();
      process.send!({cmd: 'memory', ...process.memoryUsage(), clients: clientCount()});
      return;
  }
});

process.send!({cmd: 'ready', port});
