/**
 * `npm run bench:cluster`: two nodes on one Redis, clients split across both, the publisher on node
 * A. Switchboard (a topic on Redis Streams; the hub's all-send on pub/sub) side by side with
 * ASP.NET Core SignalR on its Redis backplane (when `dotnet` is present) and Socket.IO 4 on
 * @socket.io/redis-streams-adapter and on @socket.io/redis-adapter, in one run: delivered messages
 * per second at 100 and 1,000 clients, cross-node p50/p99 latency (clients on node B) at a
 * moderate fixed rate, a node kill (./kill.ts), and Switchboard on one node against two (the same
 * clients: what a second core adds). Redis is a fresh redis-server on a free port.
 * BENCH_ONLY=kill|scale|throughput runs one section; BENCH_KINDS=sb-topic,aspnet-redis,… limits the servers;
 * BENCH_CLIENTS=100 (default 100,1000) sets the client counts; BENCH_REPS sets the bursts per row (default 3); BENCH_NEGOTIATE=1 makes the kill's SignalR clients negotiate.
 */
import type {ChildProcess} from 'node:child_process';
import {startRedis} from '../../packages/hub/test/redis-server.js';
import {prepareAspNet} from '../broadcast/servers';
import {ask, machine, median, percentile, spawn, stop, table} from '../lib';
import {killRows} from './kill';
import type {Kind} from './node';
import {fmt, NAMES, startNodes} from './setup';

const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const ONLY = process.env['BENCH_ONLY'];
// BENCH_CLIENTS=100 measures one size only (a quick run); the one-node-or-two rows use the largest.
const CLIENTS = (process.env['BENCH_CLIENTS'] ?? '100,1000').split(',').map(Number);
const SCALE_CLIENTS = Math.max(...CLIENTS);
const payload = {orderId: 'o-42', sku: 'tea-sencha', quantity: 2, note: 'a payload of about two hundred bytes in all, like an envelope'};

const skipped = prepareAspNet();
// BENCH_KINDS (e.g. "sb-topic,aspnet-redis") limits the servers measured.
const KINDS: readonly Kind[] = (['sb-topic', 'sb-hub', 'aspnet-redis', 'sio-streams', 'sio-pubsub'] as const).filter(
  (k) => (k !== 'aspnet-redis' || skipped === undefined) && (process.env['BENCH_KINDS'] ?? k).split(',').includes(k),
);

interface Setup {
  readonly nodes: ChildProcess[];
  readonly clients: ChildProcess;
}

/** `nodes` nodes (1 or 2) and `clients` clients split across them (all on the one node when alone). */
async function start(kind: Kind, redisUrl: string, clients: number, nodes = 2): Promise<Setup> {
  const started = await startNodes(kind, redisUrl, nodes);
  const [a, b = a] = started.ports;
  const client = spawn('bench/cluster/clients.ts', [kind, String(a), String(b), String(clients)]);
  await ask(client, undefined, 'ready', 120_000);
  return {nodes: started.nodes, clients: client};
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

/** Median delivered msg/s over REPS bursts after a warm-up one, as the table's text. */
async function rate(setup: Setup, messages: number, clients: number): Promise<string> {
  const notes: string[] = [];
  await burst(setup, Math.ceil(messages / 4), clients, notes);
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) rates.push(await burst(setup, messages, clients, notes));
  const complete = rates.filter((x) => !Number.isNaN(x));
  return complete.length === 0 ? 'lost messages' : fmt(median(complete) / 1000) + (notes.length > 0 ? ` (${notes.join('; ')})` : '');
}

/**
 * Events per burst: a million deliveries at 100 clients (about two seconds), 300,000 at 1,000 and more. Bursts
 * of a few hundred milliseconds (2,000 events, the earlier setting) measured JIT warm-up and
 * scheduling noise as much as the servers: the same row moved 1.5× between runs.
 */
const messagesFor = (clients: number) => (clients <= 100 ? 10_000 : 300);

const redis = await startRedis();
try {
  console.log(`## Cluster: two nodes on one Redis, Switchboard vs ASP.NET Core and Socket.IO\n\nMachine: ${machine()}; redis-server 7 on loopback. Medians of ${REPS} runs.\n`);
  if (skipped !== undefined) console.log(`${skipped}\n`);
  const rows: string[][] = [];
  for (const clients of ONLY === undefined || ONLY === 'throughput' ? CLIENTS : []) {
    for (const kind of KINDS) {
      const setup = await start(kind, redis.url, clients);
      try {
        const delivered = await rate(setup, messagesFor(clients), clients);
        const {p50, p99} = await latency(setup, clients);
        rows.push([String(clients), NAMES[kind], delivered, fmt(p50, 2), fmt(p99, 2)]);
        console.error(`${clients} clients, ${NAMES[kind]}: ${delivered} k msg/s, p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms`);
      } finally {
        await Promise.all([...setup.nodes, setup.clients].map((c) => stop(c)));
      }
    }
  }
  if (rows.length > 0) console.log(table(['clients', 'server', 'delivered k msg/s', 'cross-node p50 ms', 'cross-node p99 ms'], rows));

  if (ONLY === undefined || ONLY === 'kill') {
    console.log(
      `\n### After a node kill\n\n${process.env['BENCH_KILL_CLIENTS'] ?? 100} clients on node B, 200 events/s published on node A; node B's server process is SIGKILLed and each client reconnects to node A, the first attempt at once, later ones after the page bridge's retry delays. Raw clients connect to A directly without negotiate (SignalR's skipNegotiation; Socket.IO's websocket transport); the official-client rows go through a balancer that sends new connections to A once B refuses, and negotiate. Stages are ms after the kill (– where a client has no such stage).\n`,
    );
    const measured = [
      {kind: 'sb-topic'},
      {kind: 'sb-topic', official: true},
      {kind: 'aspnet-redis'},
      {kind: 'aspnet-redis', official: true},
      {kind: 'sio-streams'},
      {kind: 'sio-pubsub'},
    ] as const;
    console.log(await killRows(measured.filter(({kind}) => KINDS.includes(kind)), redis.url, payload));
  }

  if (ONLY === undefined || ONLY === 'scale') {
    console.log(`\n### One node or two\n\nThe same ${SCALE_CLIENTS.toLocaleString('en-US')} clients on one node, then split across two (the publisher on the first); every node on the Redis engine.\n`);
    const scaleRows: string[][] = [];
    for (const kind of ['sb-topic', 'sb-hub'] as const) {
      const perNodes: number[] = [];
      for (const nodes of [1, 2]) {
        const setup = await start(kind, redis.url, SCALE_CLIENTS, nodes);
        try {
          const delivered = await rate(setup, messagesFor(SCALE_CLIENTS), SCALE_CLIENTS);
          perNodes.push(Number.parseFloat(delivered.replaceAll(',', '')));
          scaleRows.push([NAMES[kind], String(nodes), delivered, nodes === 2 ? `${fmt(perNodes[1]! / perNodes[0]!, 2)}×` : '1.00×']);
          console.error(`scale, ${NAMES[kind]}, ${nodes} node(s): ${delivered} k msg/s`);
        } finally {
          await Promise.all([...setup.nodes, setup.clients].map((c) => stop(c)));
        }
      }
    }
    console.log(table(['server', 'nodes', `delivered k msg/s (${SCALE_CLIENTS.toLocaleString('en-US')} clients)`, 'against one node'], scaleRows));
  }
} finally {
  await redis.stop();
}
