/**
 * `npm run bench:cluster`: two nodes on one Redis, clients split across both, the publisher on node
 * A. Switchboard (a topic on Redis Streams; the hub's all-send on pub/sub) side by side with
 * Socket.IO 4 on @socket.io/redis-streams-adapter and on @socket.io/redis-adapter, in one run:
 * delivered messages per second at 100 and 1,000 clients, and cross-node p50/p99 latency (clients
 * on node B) at a moderate fixed rate. Redis is a fresh redis-server on a free port.
 */
import type {ChildProcess} from 'node:child_process';
import {startRedis} from '../../packages/hub/test/redis-server.js';
import {ask, machine, median, percentile, spawn, stop, table} from '../lib';
import type {Kind} from './node';

const KINDS: readonly Kind[] = ['sb-topic', 'sb-hub', 'sio-streams', 'sio-pubsub'];
const NAMES: Record<Kind, string> = {
  'sb-topic': 'Switchboard topic (Streams)',
  'sb-hub': 'Switchboard hub all-send (pub/sub)',
  'sio-streams': 'Socket.IO 4 + redis-streams-adapter',
  'sio-pubsub': 'Socket.IO 4 + redis-adapter',
};
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const payload = {orderId: 'o-42', sku: 'tea-sencha', quantity: 2, note: 'a payload of about two hundred bytes in all, like an envelope'};

interface Setup {
  readonly nodes: ChildProcess[];
  readonly clients: ChildProcess;
}

let run = 0;
async function start(kind: Kind, redisUrl: string, clients: number): Promise<Setup> {
  run++;
  const nodes = [0, 1].map(() => spawn('bench/cluster/node.ts', [kind, redisUrl]));
  const ports = await Promise.all(nodes.map((n) => ask<{port: number}>(n, undefined, 'ready').then((r) => r.port)));
  const client = spawn('bench/cluster/clients.ts', [kind, String(ports[0]), String(ports[1]), String(clients)]);
  await ask(client, undefined, 'ready');
  return {nodes, clients: client};
}

/** Delivered messages per second; NaN (and a note of how many arrived) when some never did. */
async function burst(setup: Setup, messages: number, clients: number, notes: string[]): Promise<number> {
  const before = (await ask<{total: number}>(setup.clients, {cmd: 'total'}, 'total')).total;
  const done = ask(setup.clients, {cmd: 'expect', count: messages}, 'received');
  const t0 = performance.now();
  setup.nodes[0]!.send({cmd: 'burst', count: messages, batch: 20, payload});
  const finished = await Promise.race([done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 30_000))]);
  if (finished) return (messages * clients) / ((performance.now() - t0) / 1000);
  const got = (await ask<{total: number}>(setup.clients, {cmd: 'total'}, 'total')).total - before;
  notes.push(`${fmt((100 * got) / (messages * clients))}% delivered within 30 s`);
  return Number.NaN;
}

async function latency(setup: Setup, clients: number): Promise<{p50: number; p99: number}> {
  const perSecond = Math.max(1, Math.round(10_000 / clients));
  await ask(setup.nodes[0]!, {cmd: 'rate', perSecond, durationMs: 2000, payload}, 'rate-sent');
  await new Promise((r) => setTimeout(r, 500));
  const {samples} = await ask<{samples: number[]}>(setup.clients, {cmd: 'latency'}, 'latency');
  return {p50: percentile(samples, 50), p99: percentile(samples, 99)};
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});

const redis = await startRedis();
try {
  console.log(`## Cluster: two nodes on one Redis, Switchboard vs Socket.IO adapters\n\nMachine: ${machine()}; redis-server 7 on loopback. Medians of ${REPS} runs.\n`);
  const rows: string[][] = [];
  // BENCH_ONLY=kill runs only the node-kill measurement.
  for (const clients of process.env['BENCH_ONLY'] === 'kill' ? [] : [100, 1000]) {
    const messages = clients === 100 ? 2000 : 300;
    for (const kind of KINDS) {
      process.env['BENCH_RUN'] = String(run);
      const setup = await start(kind, redis.url, clients);
      try {
        const notes: string[] = [];
        await burst(setup, Math.ceil(messages / 4), clients, notes);
        const rates: number[] = [];
        for (let r = 0; r < REPS; r++) rates.push(await burst(setup, messages, clients, notes));
        const {p50, p99} = await latency(setup, clients);
        const complete = rates.filter((x) => !Number.isNaN(x));
        const rate = complete.length === 0 ? 'lost messages' : fmt(median(complete) / 1000) + (notes.length > 0 ? ` (${notes.join('; ')})` : '');
        rows.push([String(clients), NAMES[kind], rate, fmt(p50, 2), fmt(p99, 2)]);
        console.error(`${clients} clients, ${NAMES[kind]}: ${rate} k msg/s, p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms`);
      } finally {
        await Promise.all([...setup.nodes, setup.clients].map((c) => stop(c)));
      }
    }
  }
  if (rows.length > 0) console.log(table(['clients', 'server', 'delivered k msg/s', 'cross-node p50 ms', 'cross-node p99 ms'], rows));
  console.log(`\n### After a node kill\n\n100 clients on node B, 200 events/s published on node A; node B is killed (SIGKILL) and each client reconnects to node A at once.\n`);
  const resumeRows: string[][] = [];
  for (const kind of ['sb-topic', 'sio-streams', 'sio-pubsub'] as const) {
    process.env['BENCH_RUN'] = String(++run);
    const nodes = [0, 1].map(() => spawn('bench/cluster/node.ts', [kind, redis.url]));
    const ports = await Promise.all(nodes.map((n) => ask<{port: number}>(n, undefined, 'ready').then((r) => r.port)));
    const clients = spawn('bench/cluster/resume-clients.ts', [kind, String(ports[0]), String(ports[1]), '100']);
    await ask(clients, undefined, 'ready');
    const sending = ask(nodes[0]!, {cmd: 'rate', perSecond: 200, durationMs: 5000, payload}, 'rate-sent');
    await new Promise((r) => setTimeout(r, 1500));
    const gone = new Promise((r) => nodes[1]!.once('exit', r));
    nodes[1]!.kill('SIGKILL');
    await gone;
    clients.send({cmd: 'killed'});
    await sending;
    await new Promise((r) => setTimeout(r, 1500));
    const report = await ask<{gaps: number; duplicates: number; resumeMs: number[]; resumed: number}>(clients, {cmd: 'report'}, 'report');
    resumeRows.push([
      NAMES[kind],
      `${report.resumed}/100`,
      report.resumeMs.length === 0 ? '–' : fmt(median(report.resumeMs), 0),
      report.resumeMs.length === 0 ? '–' : fmt(Math.max(...report.resumeMs), 0),
      String(report.gaps),
      String(report.duplicates),
    ]);
    console.error(`node kill, ${NAMES[kind]}: ${JSON.stringify({...report, resumeMs: undefined})}`);
    await Promise.all([nodes[0]!, clients].map((c) => stop(c)));
  }
  console.log(table(['server', 'clients receiving again', 'median ms to the first event after the kill', 'max ms', 'events missed (all clients)', 'duplicates'], resumeRows));
} finally {
  await redis.stop();
}
