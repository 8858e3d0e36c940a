/**
 * One node of a cluster under test, in its own process. Arguments: kind, Redis URL. Driven over
 * IPC like bench/broadcast/server.ts:
 *   {cmd: 'burst', count, batch, payload}   broadcast `count` messages, `batch` at a time
 *   {cmd: 'rate', perSecond, durationMs, payload}   broadcast at a fixed rate, stamping each message
 *   {cmd: 'refused'}   reply with the seqs of the last `rate` the server refused (never delivered by design)
 *   {cmd: 'cpu'}   reply with CPU time (µs) and local client count
 *   {cmd: 'die'}   crash at once (SIGKILL of the server process: no close frames, no goodbye)
 * Kinds: `sb-topic` (a Switchboard topic on Redis Streams: durable, resumable), `sb-hub` (the
 * Switchboard hub's backplane on Redis pub/sub), `sio-streams` (Socket.IO 4 with
 * @socket.io/redis-streams-adapter), `sio-pubsub` (Socket.IO 4 with @socket.io/redis-adapter),
 * `aspnet-redis` (ASP.NET Core SignalR on its Redis backplane, a dotnet child of this process:
 * see ./aspnet-node.ts).
 */
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {createAdapter as pubsubAdapter} from '@socket.io/redis-adapter';
import {createAdapter as streamsAdapter} from '@socket.io/redis-streams-adapter';
import {redisEngine, SwitchboardServer} from '@switchboard/hub';
import {shopRegistry} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {createClient} from 'redis';
import {Server as SocketIOServer} from 'socket.io';
import {cpuMicros, sendAtRate} from '../server-commands';
import {startAspNetNode} from './aspnet-node';

export type Kind = 'sb-topic' | 'sb-hub' | 'sio-streams' | 'sio-pubsub' | 'aspnet-redis';
const [kind, redisUrl] = process.argv.slice(2) as [Kind, string];

let broadcast: (message: Record<string, unknown>) => Promise<unknown> | void;
let port: number;
let clientCount: () => number;
let seq = 0;
/** Set for a node whose server is another process (ASP.NET): commands go to it over HTTP. */
let remote: Awaited<ReturnType<typeof startAspNetNode>> | undefined;

if (kind === 'aspnet-redis') {
  remote = await startAspNetNode(redisUrl, `bench-${process.env['BENCH_RUN'] ?? '0'}`);
  port = remote.port;
  clientCount = () => Number.NaN;
  broadcast = () => undefined;
} else if (kind === 'sb-topic' || kind === 'sb-hub') {
  const server = new SwitchboardServer({
    registry: shopRegistry(),
    logger: pino({level: 'silent'}),
    engine: redisEngine({url: redisUrl, prefix: `bench-${process.env['BENCH_RUN'] ?? '0'}`, maxEvents: 100_000}),
    topics: {bench: {unknownTypes: 'accept'}},
    hub: {keepAliveIntervalMs: 600_000, clientTimeoutMs: 600_000},
  });
  await server.listen(0);
  port = server.port;
  clientCount = () => server.hub.connectionCount;
  broadcast =
    kind === 'sb-hub'
      ? (message) => server.hub.clients.all.send('event', message)
      : (message) =>
          server.events.publish('bench', {
            id: `${process.pid}-${seq++}`,
            type: 'bench.tick',
            version: 1,
            time: '2026-11-23T10:00:00.000Z',
            source: 'bench',
            correlationId: 'bench',
            data: message,
          });
} else {
  const http = createServer();
  const pub = createClient({url: redisUrl});
  await pub.connect();
  let adapter;
  if (kind === 'sio-streams') adapter = streamsAdapter(pub);
  else {
    const sub = pub.duplicate();
    await sub.connect();
    adapter = pubsubAdapter(pub, sub);
  }
  const io = new SocketIOServer(http, {transports: ['websocket'], serveClient: false, pingInterval: 600_000, pingTimeout: 600_000, adapter});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  broadcast = (message) => void io.emit('event', message);
  clientCount = () => io.engine.clientsCount;
}

/**
 * Stamped sends the server refused (a publish Redis did not confirm in time on a swamped machine):
 * the publisher was told, so they count as refused, not as lost by delivery.
 */
const refused: number[] = [];
const guarded = (message: Record<string, unknown>): void => {
  const seq = message['seq'] as number;
  void Promise.resolve(broadcast(message)).then(
    (result) => (result as {ok?: boolean} | undefined)?.ok === false && refused.push(seq),
    () => refused.push(seq),
  );
};

type Command = {cmd: string; count?: number; batch?: number; perSecond?: number; durationMs?: number; payload?: Record<string, unknown>};

/** ASP.NET: the same commands over HTTP; `die` kills the dotnet process, then this wrapper. */
function toRemote(node: NonNullable<typeof remote>, msg: Command): void {
  const failed = (error: Error) => {
    console.error(`aspnet-redis node: ${msg.cmd} failed: ${error.message}`);
    process.exit(1);
  };
  switch (msg.cmd) {
    case 'burst':
      node.burst(msg.count!, msg.batch!).then(() => process.send!({cmd: 'burst-sent'}), failed);
      return;
    case 'rate':
      node.rate(msg.perSecond!, msg.durationMs!).then(() => process.send!({cmd: 'rate-sent'}), failed);
      return;
    case 'refused':
      process.send!({cmd: 'refused', seqs: []});
      return;
    case 'cpu':
      node.clients().then((clients) => process.send!({cmd: 'cpu', micros: Number.NaN, clients}), failed);
      return;
    case 'die':
      node.child.once('exit', () => process.exit(0));
      node.child.kill('SIGKILL');
      return;
  }
}

process.on('message', (msg: Command) => {
  if (remote !== undefined) return toRemote(remote, msg);
  switch (msg.cmd) {
    case 'die':
      process.kill(process.pid, 'SIGKILL');
      return;
    case 'burst': {
      // `batch` sends per turn of the event loop, none waiting for the ones before it to be
      // confirmed: what the ASP.NET app (SendAsync tasks awaited at the end), Socket.IO's emit and
      // bench:broadcast's servers do. (Awaiting each batch made this publisher wait a Redis round
      // trip per 20 events, which the peers never did.)
      const pending: Array<Promise<unknown> | void> = [];
      let sent = 0;
      const step = (): void => {
        for (let i = 0; i < msg.batch! && sent < msg.count!; i++, sent++) pending.push(broadcast({...msg.payload, seq: sent}));
        if (sent < msg.count!) setImmediate(step);
        else void Promise.allSettled(pending).then(() => process.send!({cmd: 'burst-sent'}));
      };
      step();
      return;
    }
    case 'rate':
      refused.length = 0;
      sendAtRate(guarded, msg.payload, msg.perSecond!, msg.durationMs!);
      return;
    case 'refused':
      process.send!({cmd: 'refused', seqs: refused});
      return;
    case 'cpu':
      process.send!({cmd: 'cpu', micros: cpuMicros(), clients: clientCount()});
      return;
  }
});

// A SIGTERM (the bench stopping this node) exits normally, so --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
process.send!({cmd: 'ready', port});
