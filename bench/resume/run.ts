/**
 * Resume cost: how long a client that comes back 10,000 events behind takes to catch up by replay
 * (subscribe from its last offset), against the time the same 10,000 events take to arrive live.
 * The server runs in this process; the client is the official @microsoft/signalr Node client over
 * WebSockets, as a page's would be.
 */
import * as signalR from '@microsoft/signalr';
import {createEnvelope} from '@switchboard/contracts';
import {OrderPlaced, shopRegistry} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {SwitchboardServer} from '@switchboard/hub';
import {machine, median, table} from '../lib';

const EVENTS = 10_000;
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
/** Events the server appends per turn of its event loop when publishing live. */
const LIVE_BATCH = 50;

async function connect(url: string): Promise<signalR.HubConnection> {
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true})
    .configureLogging(signalR.LogLevel.None)
    .build();
  await c.start();
  return c;
}

function counter(c: signalR.HubConnection, total: number): Promise<void> {
  let n = 0;
  return new Promise((resolve) => c.on('event', () => ++n === total && resolve()));
}

async function once(topic: string, server: SwitchboardServer, url: string): Promise<{live: number; replay: number}> {
  const publish = (i: number) =>
    server.events.publish(topic, createEnvelope(OrderPlaced, {orderId: `o-${i}`, sku: 'tea-sencha', quantity: 1}, {source: 'bench', id: `${topic}-${i}`}));

  // Live: the client is subscribed; the events are published as fast as the server takes them.
  const live = await connect(url);
  await live.invoke('subscribe', topic, null);
  const liveDone = counter(live, EVENTS);
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; ) {
    for (let k = 0; k < LIVE_BATCH && i < EVENTS; k++) void publish(i++);
    await new Promise((r) => setImmediate(r));
  }
  await liveDone;
  const liveMs = performance.now() - t0;
  const head = await server.events.log.head(topic);
  await live.stop();

  // Replay: 10,000 more are published with no one listening; a client comes back from `head`.
  for (let i = EVENTS; i < 2 * EVENTS; i++) await publish(i);
  const back = await connect(url);
  const replayDone = counter(back, EVENTS);
  const t1 = performance.now();
  await back.invoke('subscribe', topic, head);
  await replayDone;
  const replayMs = performance.now() - t1;
  await back.stop();
  return {live: liveMs, replay: replayMs};
}

const server = new SwitchboardServer({registry: shopRegistry(), logger: pino({level: 'silent'})});
const url = await server.listen(0);
const runs: Array<{live: number; replay: number}> = [];
for (let rep = 0; rep < REPS; rep++) runs.push(await once(`resume-${rep}`, server, url));
await server.close();

const live = median(runs.map((r) => r.live));
const replay = median(runs.map((r) => r.replay));
console.log(`## Resume cost: catching up ${EVENTS.toLocaleString('en-US')} events\n\nMachine: ${machine()}. Official SignalR Node client over WebSockets, server in the same process; medians of ${REPS} runs.\n`);
console.log(
  table(
    ['how the client gets 10,000 events', 'ms', 'events/s'],
    [
      ['live, as they are published', live.toFixed(0), Math.round(EVENTS / (live / 1000)).toLocaleString('en-US')],
      ['replay, subscribing from its last offset', replay.toFixed(0), Math.round(EVENTS / (replay / 1000)).toLocaleString('en-US')],
    ],
  ),
);
console.log(`\nCatching up takes ${(replay / live).toFixed(2)}× the time the same events take live (target ≤ 2×).`);
process.exit(0);
