/**
 * Resume from Redis: a client comes back 100,000 events behind and catches up by replay (XRANGE
 * pages from the topic's stream) while a 5 ms timer on the same node records how late it fires.
 * The target is a max timer lag of 50 ms. The server runs in this process on a fresh
 * redis-server; the client is a raw WebSocket that only counts frames, so it adds little work to
 * the event loop being measured.
 *
 * `npm run bench:resume:redis` (BENCH_REPS, BENCH_EVENTS to change the defaults).
 */
import {loadavg} from 'node:os';
import {createEnvelope} from '@switchboard/contracts';
import {OrderPlaced, shopRegistry} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import WebSocket from 'ws';
import {redisEngine, SwitchboardServer} from '@switchboard/hub';
import {startRedis} from '../../packages/hub/test/redis-server.js';
import {machine, median, table} from '../lib';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const RS = '\u001e';

interface Run {
  readonly seconds: number;
  readonly maxLag: number;
  readonly p99Lag: number;
}

async function once(server: SwitchboardServer, url: string, topic: string): Promise<Run> {
  const envelope = (i: number) => createEnvelope(OrderPlaced, {orderId: `o-${i}`, sku: 'tea-sencha', quantity: 1}, {source: 'bench', id: `${topic}-${i}`});
  const log = server.events.log;
  const first = await log.append(topic, envelope(0));
  for (let i = 1; i <= EVENTS; i += 1000) await log.appendMany!(topic, Array.from({length: Math.min(1000, EVENTS + 1 - i)}, (_, k) => envelope(i + k)));

  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hubs/events`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let events = 0;
  let completed = false;
  ws.on('message', (data) => {
    const text = data.toString();
    for (let at = text.indexOf('"target":"event"'); at >= 0; at = text.indexOf('"target":"event"', at + 1)) events++;
    if (text.includes('"type":3')) completed = true;
  });
  ws.send(`{"protocol":"json","version":1}${RS}`);

  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 5));
    last = now;
  }, 5);
  const t0 = performance.now();
  ws.send(`${JSON.stringify({type: 1, invocationId: '1', target: 'subscribe', arguments: [topic, first.offset]})}${RS}`);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (events >= EVENTS && completed) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  ws.close();
  lags.sort((a, b) => a - b);
  return {seconds, maxLag: lags.at(-1) ?? 0, p99Lag: lags[Math.floor(lags.length * 0.99)] ?? 0};
}

const redis = await startRedis();
const server = new SwitchboardServer({
  registry: shopRegistry(),
  logger: pino({level: 'silent'}),
  engine: redisEngine({url: redis.url, maxEvents: EVENTS * 2}),
});
try {
  const url = await server.listen(0);
  const runs: Run[] = [];
  const loads: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    loads.push(loadavg()[0]!);
    runs.push(await once(server, url, `resume-${rep}`));
  }
  console.log(
    `## Resume from Redis: ${EVENTS.toLocaleString('en-US')} missed events\n\nMachine: ${machine()}; load average (1 min) at the start of each run: ${loads.map((l) => l.toFixed(2)).join(', ')}. redis-server on loopback, server and a counting raw WebSocket client in one process; a 5 ms timer measures the event loop's lag. Target: max lag ≤ 50 ms.\n`,
  );
  console.log(
    table(
      ['run', 'catch-up s', 'events/s', 'timer lag p99 ms', 'timer lag max ms'],
      [
        ...runs.map((r, i) => [String(i + 1), r.seconds.toFixed(2), Math.round(EVENTS / r.seconds).toLocaleString('en-US'), r.p99Lag.toFixed(1), r.maxLag.toFixed(1)]),
        ['median', median(runs.map((r) => r.seconds)).toFixed(2), '', median(runs.map((r) => r.p99Lag)).toFixed(1), median(runs.map((r) => r.maxLag)).toFixed(1)],
      ],
    ),
  );
} finally {
  await server.close();
  await redis.stop();
}
