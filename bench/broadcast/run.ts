/**
 * Broadcast benchmark: the Switchboard hub against Socket.IO and raw `ws`, side by side in one run.
 * Each server runs in its own process (its CPU time is read from it), its clients in another.
 *
 * - throughput: ~200-byte events to 100 and 1,000 clients, sent in bursts (20 broadcasts per turn of
 *   the event loop, where the hub coalesces one connection's messages into one frame) and one per
 *   turn (where nothing can be coalesced); delivered messages per second and server CPU microseconds
 *   per delivered message (median of interleaved repetitions);
 * - latency: p50/p99 one-way at a fixed moderate rate (20,000 deliveries/s);
 * - memory: server memory per idle connection with 10,000 connections held.
 */
import type {ChildProcess} from 'node:child_process';
import {ask, machine, median, percentile, spawn, stop, table} from '../lib';

type Kind = 'switchboard' | 'socketio' | 'ws';
const KINDS: readonly Kind[] = ['switchboard', 'socketio', 'ws'];
const NAMES: Record<Kind, string> = {switchboard: 'Switchboard hub', socketio: 'Socket.IO 4', ws: 'raw ws'};
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const IDLE = Number(process.env['BENCH_IDLE'] ?? 10_000);

/** A ~200-byte event, shaped like an envelope. */
const payload = {
  id: '5b0c1f7e-8d6a-4c1b-9f43-2a7d3e9b1c55',
  type: 'order.placed',
  version: 1,
  time: '2026-11-23T10:00:00.000Z',
  source: 'service:orders',
  correlationId: 'flow-42',
  data: {orderId: 'o-42', sku: 'tea-sencha', quantity: 2},
};

interface Pair {
  readonly server: ChildProcess;
  readonly clients: ChildProcess;
}

async function start(kind: Kind, clients: number): Promise<Pair> {
  const server = spawn('bench/broadcast/server.ts', [kind], ['--expose-gc']);
  const {port} = await ask<{port: number}>(server, undefined, 'ready');
  const client = spawn('bench/broadcast/clients.ts', [kind, String(port), String(clients)]);
  await ask(client, undefined, 'ready');
  return {server, clients: client};
}

async function burst(pair: Pair, messages: number, batch: number): Promise<{rate: number; cpuPerMessage: number}> {
  const before = await ask<{micros: number}>(pair.server, {cmd: 'cpu'}, 'cpu');
  const done = ask(pair.clients, {cmd: 'expect', count: messages}, 'received');
  const t0 = performance.now();
  pair.server.send({cmd: 'burst', count: messages, batch, payload});
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const after = await ask<{micros: number; clients: number}>(pair.server, {cmd: 'cpu'}, 'cpu');
  const delivered = messages * after.clients;
  return {rate: delivered / seconds, cpuPerMessage: (after.micros - before.micros) / delivered};
}

async function latency(pair: Pair, clients: number): Promise<{p50: number; p99: number}> {
  const perSecond = Math.max(1, Math.round(20_000 / clients));
  await ask(pair.server, {cmd: 'rate', perSecond, durationMs: 2000, payload}, 'rate-sent');
  await new Promise((r) => setTimeout(r, 300));
  const {samples} = await ask<{samples: number[]}>(pair.clients, {cmd: 'latency'}, 'latency');
  return {p50: percentile(samples, 50), p99: percentile(samples, 99)};
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});

console.log(`## Broadcast: Switchboard hub vs Socket.IO vs raw ws\n\nMachine: ${machine()}. Clients in a separate process; medians of ${REPS} interleaved runs.\n`);

const results: string[][] = [];
const ratios: string[][] = [];
const latencies: string[][] = [];
const MODES = [
  {name: 'bursts', batch: 20},
  {name: 'one per turn', batch: 1},
] as const;
for (const clients of [100, 1000]) {
  const messages = clients === 100 ? 2000 : 300;
  const pairs = new Map<Kind, Pair>();
  for (const kind of KINDS) pairs.set(kind, await start(kind, clients));
  for (const pair of pairs.values()) await burst(pair, Math.ceil(messages / 4), 20); // warm up
  for (const mode of MODES) {
    const runs = new Map<Kind, Array<{rate: number; cpuPerMessage: number}>>(KINDS.map((k) => [k, []]));
    for (let rep = 0; rep < REPS; rep++) for (const kind of KINDS) runs.get(kind)!.push(await burst(pairs.get(kind)!, messages, mode.batch));
    const summary = new Map<Kind, {rate: number; cpu: number}>();
    for (const kind of KINDS) {
      summary.set(kind, {rate: median(runs.get(kind)!.map((r) => r.rate)), cpu: median(runs.get(kind)!.map((r) => r.cpuPerMessage))});
    }
    for (const kind of KINDS) {
      const s = summary.get(kind)!;
      results.push([String(clients), mode.name, NAMES[kind], fmt(s.rate / 1000, 0) + 'k', fmt(s.cpu, 2)]);
    }
    const sb = summary.get('switchboard')!;
    for (const peer of ['socketio', 'ws'] as const) {
      const p = summary.get(peer)!;
      ratios.push([String(clients), mode.name, `vs ${NAMES[peer]}`, `${fmt(sb.rate / p.rate, 2)}×`, `${fmt(p.cpu / sb.cpu, 2)}×`]);
    }
  }
  for (const kind of KINDS) {
    const lat = await latency(pairs.get(kind)!, clients);
    latencies.push([String(clients), NAMES[kind], fmt(lat.p50, 2), fmt(lat.p99, 2)]);
  }
  for (const pair of pairs.values()) await Promise.all([stop(pair.clients), stop(pair.server)]);
}

console.log(table(['clients', 'sending', 'server', 'delivered msg/s', 'server CPU µs/msg'], results));
console.log('\nSwitchboard relative to its peers (above 1 favours Switchboard in both columns):\n');
console.log(table(['clients', 'sending', 'peer', 'throughput ratio', 'CPU ratio (peer µs / Switchboard µs)'], ratios));
console.log('\nOne-way latency at a fixed moderate rate (20,000 deliveries/s):\n');
console.log(table(['clients', 'server', 'p50 ms', 'p99 ms'], latencies));

console.log(`\n### Memory per idle connection (${IDLE.toLocaleString('en-US')} connections held)\n`);
const memory: string[][] = [];
for (const kind of KINDS) {
  const server = spawn('bench/broadcast/server.ts', [kind], ['--expose-gc']);
  const {port} = await ask<{port: number}>(server, undefined, 'ready');
  const before = await ask<{rss: number; heapUsed: number}>(server, {cmd: 'memory'}, 'memory');
  const clients = spawn('bench/broadcast/clients.ts', [kind, String(port), String(IDLE)]);
  await ask(clients, undefined, 'ready');
  await new Promise((r) => setTimeout(r, 500));
  const after = await ask<{rss: number; heapUsed: number; clients: number}>(server, {cmd: 'memory'}, 'memory');
  memory.push([
    NAMES[kind],
    after.clients.toLocaleString('en-US'),
    fmt((after.heapUsed - before.heapUsed) / after.clients / 1024, 1),
    fmt((after.rss - before.rss) / after.clients / 1024, 1),
  ]);
  await Promise.all([stop(clients), stop(server)]);
}
console.log(table(['server', 'connections', 'heap KB/connection', 'RSS KB/connection'], memory));
