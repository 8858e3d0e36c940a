/**
 * Broadcast benchmark: the Switchboard hub against ASP.NET Core SignalR (when `dotnet` is present),
 * Socket.IO and raw `ws`, side by side in one run. Each server runs in its own process (its CPU time
 * is read from /proc), its clients in another; both SignalR hubs get the same raw-`ws` JSON clients.
 *
 * - throughput: ~200-byte events to 100 and 1,000 clients, sent in bursts (20 broadcasts per turn of
 *   the event loop) and one per turn; delivered messages per second and server CPU microseconds per
 *   delivered message (median of interleaved repetitions);
 * - latency: p50/p99 one-way at a fixed moderate rate (20,000 deliveries/s) over BENCH_LATENCY_MS (4000)
 *   windows, medians of interleaved runs, with what held each Node server's event loop (GC, loop delay);
 * - memory: server memory per idle connection with 10,000 connections held.
 *
 * Environment: BENCH_REPS (3), BENCH_IDLE (10000), BENCH_CLIENTS (e.g. "1000"), BENCH_SERVERS
 * (e.g. "switchboard,aspnet"), BENCH_MODES ("bursts", "one per turn"), BENCH_PROFILE=1 (Node servers write --cpu-prof profiles to ./profiles),
 * BENCH_STALL_MS (60000: a delivery that takes longer fails the run), BENCH_STEP_MS (120000: a
 * server or the clients answering the harness later fail it).
 *
 * The run finishes or fails with a message, never hangs: every wait has a deadline, a connection
 * that closes mid-run or a child that exits fails it at once, and a failed run takes its children
 * (servers, clients, the ASP.NET app) with it, so none is left holding the output pipe.
 * A full run (no BENCH_CLIENTS/BENCH_SERVERS) also writes docs/bench/broadcast.json and the chart
 * docs/bench/broadcast.svg.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {loadavg} from 'node:os';
import type {ChildProcess} from 'node:child_process';
import {renderBarChart} from '../chart';
import {ask, machine, median, percentile, spawn, stop, table} from '../lib';
import type {WindowStats} from '../server-commands';
import {cpuMicros, prepareAspNet, rssBytes, startServer, type Kind, type ServerHandle} from './servers';

const NAMES: Record<Kind, string> = {switchboard: 'Switchboard hub', aspnet: 'ASP.NET Core SignalR', socketio: 'Socket.IO 4', ws: 'raw ws'};
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const IDLE = Number(process.env['BENCH_IDLE'] ?? 10_000);
const PROFILE = process.env['BENCH_PROFILE'] === '1';
const FULL = ['BENCH_CLIENTS', 'BENCH_SERVERS', 'BENCH_MODES'].every((name) => process.env[name] === undefined);
const CLIENT_COUNTS = (process.env['BENCH_CLIENTS'] ?? '100,1000').split(',').map(Number);

const skipped = prepareAspNet();
if (skipped !== undefined) console.log(`> ${skipped}\n`);
const KINDS: Kind[] = (['switchboard', 'aspnet', 'socketio', 'ws'] as const).filter(
  (k) => (k !== 'aspnet' || skipped === undefined) && (process.env['BENCH_SERVERS'] ?? k).split(',').includes(k),
);

/** A ~200-byte event, shaped like an envelope (bench/aspnet/Program.cs makes the same one). */
const payload = {
  id: '5b0c1f7e-8d6a-4c1b-9f43-2a7d3e9b1c55',
  type: 'order.placed',
  version: 1,
  time: '2026-11-23T10:00:00.000Z',
  source: 'service:orders',
  correlationId: 'flow-42',
  data: {orderId: 'o-42', sku: 'tea-sencha', quantity: 2},
};

// A latency window: at 1,000 clients (20 broadcasts/s), 2 s held 40 broadcasts, so one slow
// broadcast was the p99; 4 s halves that weight.
const LATENCY_MS = Number(process.env['BENCH_LATENCY_MS'] ?? 4000);
const STEP_MS = Number(process.env['BENCH_STEP_MS'] ?? 120_000);
const STALL_MS = Number(process.env['BENCH_STALL_MS'] ?? 60_000);

interface Pair {
  readonly server: ServerHandle;
  readonly clients: ChildProcess;
  /** Rejects when a connection closes or the clients' process exits: waits race with it. */
  readonly broken: Promise<never>;
}

async function start(kind: Kind, clients: number): Promise<Pair> {
  const server = await startServer(kind, PROFILE);
  const client = spawn('bench/broadcast/clients.ts', [kind, String(server.port), String(clients)]);
  await ask(client, undefined, 'ready', STEP_MS).catch((error: Error) => {
    throw new Error(`${NAMES[kind]}: ${clients} clients did not connect: ${error.message}`);
  });
  const held = await server.clients();
  if (held !== clients) throw new Error(`${NAMES[kind]} holds ${held} of ${clients} connections`);
  const broken = new Promise<never>((_, reject) => {
    client.on('message', (m: {cmd: string; index?: number; code?: unknown; perClient?: number[]}) => {
      if (m.cmd === 'closed') {
        reject(new Error(`${NAMES[kind]} closed client connection ${m.index} (code ${String(m.code)}) mid-run; messages per client so far: ${JSON.stringify(m.perClient)}`));
      }
    });
    client.once('exit', (code, signal) => reject(new Error(`${NAMES[kind]}: the clients' process exited (${signal ?? `code ${code}`}) mid-run`)));
  });
  broken.catch(() => {}); // Reported where it is awaited.
  return {server, clients: client, broken};
}

async function burst(pair: Pair, messages: number, batch: number, clients: number): Promise<{rate: number; cpu: number}> {
  const before = cpuMicros(pair.server.pid);
  const done = ask(pair.clients, {cmd: 'expect', count: messages}, 'received');
  const t0 = performance.now();
  await Promise.race([pair.server.burst(messages, batch, payload), pair.broken]);
  // A stalled run fails loudly with what the clients got, rather than hanging.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const stuck = `${NAMES[pair.server.kind]}: delivery stalled: not every message of ${messages} × ${clients} arrived within ${STALL_MS} ms`;
      ask(pair.clients, {cmd: 'status'}, 'status', 10_000).then(
        (status) => reject(new Error(`${stuck}: ${JSON.stringify(status)}`)),
        (error: Error) => reject(new Error(`${stuck}; the clients did not report: ${error.message}`)),
      );
    }, STALL_MS);
  });
  await Promise.race([done, stalled, pair.broken]).finally(() => clearTimeout(timer));
  const seconds = (performance.now() - t0) / 1000;
  const delivered = messages * clients;
  return {rate: delivered / seconds, cpu: (cpuMicros(pair.server.pid) - before) / delivered};
}

async function latency(pair: Pair, clients: number): Promise<{p50: number; p99: number; server: WindowStats | undefined}> {
  const perSecond = Math.max(1, Math.round(20_000 / clients));
  const server = await Promise.race([pair.server.rate(perSecond, LATENCY_MS, payload), pair.broken]);
  await new Promise((r) => setTimeout(r, 300));
  const {samples} = await Promise.race([ask<{samples: number[]}>(pair.clients, {cmd: 'latency'}, 'latency', STEP_MS), pair.broken]);
  return {p50: percentile(samples, 50), p99: percentile(samples, 99), server};
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
const load = () => loadavg().map((l) => l.toFixed(1)).join(', ');

const startLoad = load();
console.log(`## Broadcast: ${KINDS.map((k) => NAMES[k]).join(' vs ')}\n`);
console.log(`Machine: ${machine()}. Clients in a separate process; medians of ${REPS} interleaved runs. Load average at start: ${startLoad}.\n`);

const MODES = [
  {name: 'bursts', batch: 20},
  {name: 'one per turn', batch: 1},
].filter((m) => (process.env['BENCH_MODES'] ?? m.name).split(',').includes(m.name));
const results: string[][] = [];
const ratios: string[][] = [];
const latencies: string[][] = [];
const windows: string[][] = [];
const record: Array<{clients: number; mode: string; server: Kind; rate: number; cpu: number}> = [];
const latencyRecord: Array<{clients: number; server: Kind; p50: number; p99: number}> = [];
for (const clients of CLIENT_COUNTS) {
  const messages = clients <= 100 ? 2000 : 300;
  const pairs = new Map<Kind, Pair>();
  for (const kind of KINDS) pairs.set(kind, await start(kind, clients));
  for (const pair of pairs.values()) await burst(pair, Math.ceil(messages / 4), 20, clients); // warm up
  for (const mode of MODES) {
    const runs = new Map<Kind, Array<{rate: number; cpu: number}>>(KINDS.map((k) => [k, []]));
    for (let rep = 0; rep < REPS; rep++) for (const kind of KINDS) runs.get(kind)!.push(await burst(pairs.get(kind)!, messages, mode.batch, clients));
    const summary = new Map<Kind, {rate: number; cpu: number}>();
    for (const kind of KINDS) {
      const s = {rate: median(runs.get(kind)!.map((r) => r.rate)), cpu: median(runs.get(kind)!.map((r) => r.cpu))};
      summary.set(kind, s);
      record.push({clients, mode: mode.name, server: kind, ...s});
      results.push([clients.toLocaleString('en-US'), mode.name, NAMES[kind], fmt(s.rate / 1000, 0) + 'k', fmt(s.cpu, 2)]);
    }
    const sb = summary.get('switchboard');
    if (sb === undefined) continue;
    for (const peer of KINDS.filter((k) => k !== 'switchboard')) {
      const p = summary.get(peer)!;
      ratios.push([clients.toLocaleString('en-US'), mode.name, `vs ${NAMES[peer]}`, `${fmt(sb.rate / p.rate, 2)}×`, `${fmt(p.cpu / sb.cpu, 2)}×`]);
    }
  }
  // Interleaved repetitions too: on a shared machine one 2-second window says little about a p99.
  const latencyRuns = new Map<Kind, Array<{p50: number; p99: number; server: WindowStats | undefined}>>(KINDS.map((k) => [k, []]));
  for (let rep = 0; rep < REPS; rep++) for (const kind of KINDS) latencyRuns.get(kind)!.push(await latency(pairs.get(kind)!, clients));
  for (const kind of KINDS) {
    const runs = latencyRuns.get(kind)!;
    const lat = {p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99))};
    latencyRecord.push({clients, server: kind, ...lat});
    latencies.push([clients.toLocaleString('en-US'), NAMES[kind], fmt(lat.p50, 2), fmt(lat.p99, 2)]);
    // What held each Node server's loop in its windows: the worst window per column, since one
    // pause in a window is enough to move that window's p99.
    const stats = runs.map((r) => r.server).filter((w): w is WindowStats => w !== undefined);
    if (stats.length > 0) {
      const worst = (pick: (w: WindowStats) => number) => fmt(Math.max(...stats.map(pick)), 1);
      windows.push([clients.toLocaleString('en-US'), NAMES[kind], stats.map((w) => w.gcCount).join(' / '), `${worst((w) => w.gcMaxMs)} (${stats.reduce((a, b) => (b.gcMaxMs > a.gcMaxMs ? b : a)).gcLongestKind})`, worst((w) => w.gcTotalMs), worst((w) => w.loopP99Ms), worst((w) => w.loopMaxMs)]);
    }
  }
  for (const pair of pairs.values()) await Promise.all([stop(pair.clients), pair.server.stop()]);
}

console.log(table(['clients', 'sending', 'server', 'delivered msg/s', 'server CPU µs/msg'], results));
if (ratios.length > 0) {
  console.log('\nSwitchboard relative to its peers (above 1 favours Switchboard in both columns):\n');
  console.log(table(['clients', 'sending', 'peer', 'throughput ratio', 'CPU ratio (peer µs / Switchboard µs)'], ratios));
}
console.log(`\nOne-way latency at a fixed moderate rate (20,000 deliveries/s; medians of ${REPS} interleaved runs):\n`);
console.log(table(['clients', 'server', 'p50 ms', 'p99 ms'], latencies));
if (windows.length > 0) {
  console.log(`\nWhat held each Node server's event loop during those windows (GCs per window; the worst window's longest and total GC pause and event-loop delay):\n`);
  console.log(table(['clients', 'server', 'GCs', 'longest GC ms', 'GC total ms', 'loop delay p99 ms', 'loop delay max ms'], windows));
}

const memoryRecord: Array<{server: Kind; connections: number; heapKB: number; rssKB: number}> = [];
if (IDLE > 0) {
  console.log(`\n### Memory per idle connection (${IDLE.toLocaleString('en-US')} connections held)\n`);
  const memory: string[][] = [];
  for (const kind of KINDS) {
    const server = await startServer(kind);
    const heapBefore = await server.heapUsed();
    const rssBefore = rssBytes(server.pid);
    const clients = spawn('bench/broadcast/clients.ts', [kind, String(server.port), String(IDLE)]);
    await ask(clients, undefined, 'ready', STEP_MS);
    await new Promise((r) => setTimeout(r, 500));
    const heapAfter = await server.heapUsed();
    const rssAfter = rssBytes(server.pid);
    const held = await server.clients();
    const row = {server: kind, connections: held, heapKB: (heapAfter - heapBefore) / held / 1024, rssKB: (rssAfter - rssBefore) / held / 1024};
    memoryRecord.push(row);
    memory.push([NAMES[kind], held.toLocaleString('en-US'), fmt(row.heapKB, 1), fmt(row.rssKB, 1)]);
    await Promise.all([stop(clients), server.stop()]);
  }
  console.log(table(['server', 'connections', 'heap KB/connection', 'RSS KB/connection'], memory));
}
const endLoad = load();
console.log(`\nLoad average at end: ${endLoad} (the machine is shared: read ratios from one run, not absolute numbers).`);

if (FULL) {
  mkdirSync('docs/bench', {recursive: true});
  const when = new Date().toISOString();
  writeFileSync(
    'docs/bench/broadcast.json',
    JSON.stringify({when, machine: machine(), load: {start: startLoad, end: endLoad}, reps: REPS, throughput: record, latency: latencyRecord, memory: memoryRecord}, null, 2) + '\n',
  );
  const groups = CLIENT_COUNTS.flatMap((c) => MODES.map((m) => `${c.toLocaleString('en-US')} clients, ${m.name}`));
  const svg = renderBarChart({
    title: 'Broadcast throughput by clients, per server (delivered messages/s, higher is better)',
    subtitle: `${machine()}; load average ${startLoad} at start; one run, ${when.slice(0, 10)}`,
    unit: 'delivered messages per second',
    groups,
    series: KINDS.map((kind) => ({
      name: NAMES[kind],
      values: CLIENT_COUNTS.flatMap((c) => MODES.map((m) => record.find((r) => r.clients === c && r.mode === m.name && r.server === kind)?.rate ?? Number.NaN)),
    })),
  });
  writeFileSync('docs/bench/broadcast.svg', svg);
  console.log('\nWrote docs/bench/broadcast.json and docs/bench/broadcast.svg.');
}
process.exit(0);
