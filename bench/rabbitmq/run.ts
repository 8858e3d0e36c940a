/**
 * `npm run bench:rabbitmq`: events published to RabbitMQ reaching browser-protocol clients, three
 * ways side by side in one run, on one private broker (Debian's rabbitmq-server with Web-STOMP):
 *
 * - Switchboard: the `bench` exchange bound into a hub topic by @switchboard/rabbitmq's ingest,
 *   SignalR JSON clients (raw ws) subscribed to the topic;
 * - Web-STOMP: RabbitMQ's own browser gateway, `@stomp/stompjs` clients subscribed to the exchange;
 * - Socket.IO: a plain `amqplib` consumer forwarding to Socket.IO 4, Socket.IO clients.
 *
 * Throughput: bursts published as fast as the producer's confirm channel takes them, delivered
 * messages per second from the first publish to the last delivery (median of interleaved
 * repetitions); latency: p50/p99 from the publish (stamped by the producer) to the client, at a
 * fixed moderate rate (BENCH_RATE, 5,000 deliveries/s). Restart: a steady stream (100 messages/s) with the
 * broker shut down and started again mid-stream; each path's clients count the sequence numbers
 * they never got.
 *
 * Environment: BENCH_REPS (3), BENCH_CLIENTS ("100,1000"), BENCH_PATHS (e.g. "switchboard,stomp"), BENCH_RESTART_CLIENTS (100; 0 skips the
 * restart), BENCH_STALL_MS (180000), BENCH_RATE (5000), BENCH_STEP_MS (120000). Every wait has a deadline; the servers
 * and clients die with the harness; the broker and its epmd are stopped at the end, on failure too.
 */
import type {ChildProcess} from 'node:child_process';
import {loadavg} from 'node:os';
import {startRabbit, type RabbitServer} from '../../packages/rabbitmq/test/rabbitmq-server';
import {ask, machine, median, percentile, spawn, stop, table} from '../lib';
import {atRate, burst, openPublisher, steadyStream} from './publisher';

type Path = 'switchboard' | 'stomp' | 'socketio';
const PATHS: Path[] = (['switchboard', 'stomp', 'socketio'] as const).filter((p) => (process.env['BENCH_PATHS'] ?? p).split(',').includes(p));
const NAMES: Record<Path, string> = {switchboard: 'Switchboard (ingest → hub topic)', stomp: 'RabbitMQ Web-STOMP', socketio: 'amqplib → Socket.IO 4'};
const KEYS: Record<Path, string> = {switchboard: 'sb', stomp: 'stomp', socketio: 'sio'};
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const CLIENT_COUNTS = (process.env['BENCH_CLIENTS'] ?? '100,1000').split(',').map(Number);
const RESTART_CLIENTS = Number(process.env['BENCH_RESTART_CLIENTS'] ?? 100);
const STEP_MS = Number(process.env['BENCH_STEP_MS'] ?? 120_000);
// Web-STOMP at 1,000 clients on a busy 2-core machine delivers a few thousand messages a second: a
// 300-message burst can take a minute there without anything being wrong.
const STALL_MS = Number(process.env['BENCH_STALL_MS'] ?? 180_000);
/** Deliveries per second of the latency runs: below what every path sustains, so queueing does not make the p99. */
const RATE = Number(process.env['BENCH_RATE'] ?? 5000);

interface Setup {
  readonly path: Path;
  readonly server: ChildProcess | undefined;
  readonly clients: ChildProcess;
  /** Rejects when the clients' or the server's process exits: waits race with it. */
  readonly broken: Promise<never>;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
const load = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a path's server (none for Web-STOMP: the broker is the server) and `count` clients of it. */
async function start(rabbit: RabbitServer, path: Path, count: number, key: string): Promise<Setup> {
  let server: ChildProcess | undefined;
  let port = rabbit.webStompPort!;
  if (path !== 'stomp') {
    server = spawn('bench/rabbitmq/server.ts', [path, rabbit.url, key], ['--conditions=switchboard-source']);
    port = (await ask<{port: number}>(server, undefined, 'ready', STEP_MS)).port;
  }
  const clients = spawn('bench/rabbitmq/clients.ts', [path, String(port), String(count), key]);
  await ask(clients, undefined, 'ready', STEP_MS).catch((error: Error) => {
    throw new Error(`${NAMES[path]}: ${count} clients did not connect: ${error.message}`);
  });
  if (server !== undefined) {
    const held = (await ask<{count: number}>(server, {cmd: 'clients'}, 'clients', STEP_MS)).count;
    if (held !== count) throw new Error(`${NAMES[path]} holds ${held} of ${count} connections`);
  }
  const broken = new Promise<never>((_, reject) => {
    for (const child of [server, clients]) {
      child?.once('exit', (code, signal) => reject(new Error(`${NAMES[path]}: a process exited (${signal ?? `code ${code}`}) mid-run`)));
    }
  });
  broken.catch(() => {}); // Reported where it is awaited.
  return {path, server, clients, broken};
}

async function finish(setup: Setup): Promise<void> {
  await Promise.all([stop(setup.clients), setup.server === undefined ? undefined : stop(setup.server)]);
}

/** Waits for `done`, failing with what the clients got if it takes longer than STALL_MS. */
async function unlessStalled<T>(setup: Setup, done: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const stuck = `${NAMES[setup.path]}: ${what} stalled (over ${STALL_MS} ms)`;
      ask(setup.clients, {cmd: 'status'}, 'status', 10_000).then(
        (status) => reject(new Error(`${stuck}: ${JSON.stringify(status)}`)),
        (error: Error) => reject(new Error(`${stuck}; the clients did not report: ${error.message}`)),
      );
    }, STALL_MS);
  });
  return Promise.race([done, stalled, setup.broken]).finally(() => clearTimeout(timer));
}

async function main(rabbit: RabbitServer): Promise<void> {
  const publisher = await openPublisher(rabbit.url);
  let seq = 0;
  const throughput: string[][] = [];
  const ratios: string[][] = [];
  const verdicts: string[] = [];
  for (const clients of CLIENT_COUNTS) {
    const messages = clients <= 100 ? 2000 : 300;
    const setups = new Map<Path, Setup>();
    for (const path of PATHS) setups.set(path, await start(rabbit, path, clients, KEYS[path]));
    const measure = async (setup: Setup, n: number): Promise<number> => {
      const done = ask(setup.clients, {cmd: 'expect', count: n}, 'received');
      const t0 = performance.now();
      await Promise.race([burst(publisher.channel, KEYS[setup.path], seq, n), setup.broken]);
      seq += n;
      await unlessStalled(setup, done, `delivery of ${n} × ${clients}`);
      return (n * clients) / ((performance.now() - t0) / 1000);
    };
    for (const setup of setups.values()) await measure(setup, Math.ceil(messages / 4)); // warm up
    const rates = new Map<Path, number[]>(PATHS.map((p) => [p, []]));
    for (let rep = 0; rep < REPS; rep++) for (const path of PATHS) rates.get(path)!.push(await measure(setups.get(path)!, messages));
    // Latency, interleaved too: on a shared machine one 2-second window says little about a p99.
    const perSecond = Math.max(1, Math.round(RATE / clients));
    const lat = new Map<Path, Array<{p50: number; p99: number}>>(PATHS.map((p) => [p, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const path of PATHS) {
        const setup = setups.get(path)!;
        await ask(setup.clients, {cmd: 'latency'}, 'latency', STEP_MS); // forget the bursts' samples
        const n = Math.max(20, perSecond * 2); // two seconds, at least 20 messages
        const done = ask(setup.clients, {cmd: 'expect', count: n}, 'received');
        await Promise.race([atRate(publisher.channel, KEYS[path], seq, n, perSecond), setup.broken]);
        seq += n;
        await unlessStalled(setup, done, 'the latency run');
        await sleep(300);
        const {samples} = await ask<{samples: number[]}>(setup.clients, {cmd: 'latency'}, 'latency', STEP_MS);
        lat.get(path)!.push({p50: percentile(samples, 50), p99: percentile(samples, 99)});
      }
    }
    const summary = new Map<Path, {rate: number; p50: number; p99: number}>();
    for (const path of PATHS) {
      const s = {rate: median(rates.get(path)!), p50: median(lat.get(path)!.map((l) => l.p50)), p99: median(lat.get(path)!.map((l) => l.p99))};
      summary.set(path, s);
      throughput.push([clients.toLocaleString('en-US'), NAMES[path], fmt(s.rate / 1000, 1) + 'k', fmt(s.p50, 1), fmt(s.p99, 1)]);
    }
    const sb = summary.get('switchboard');
    for (const peer of ['stomp', 'socketio'] as const) {
      const p = summary.get(peer);
      if (sb === undefined || p === undefined) continue;
      ratios.push([clients.toLocaleString('en-US'), `vs ${NAMES[peer]}`, `${fmt(sb.rate / p.rate, 2)}×`, `${fmt(p.p99 / sb.p99, 2)}×`]);
      if (peer === 'stomp' && clients === 1000) {
        verdicts.push(`≥ 2× Web-STOMP's delivered msg/s at 1,000 clients: ${sb.rate >= 2 * p.rate ? 'met' : 'NOT met'} (${fmt(sb.rate / p.rate, 2)}×)`);
        verdicts.push(`p99 no worse than Web-STOMP's at 1,000 clients: ${sb.p99 <= p.p99 ? 'met' : 'NOT met'} (${fmt(sb.p99, 1)} ms vs ${fmt(p.p99, 1)} ms)`);
      }
    }
    for (const setup of setups.values()) await finish(setup);
  }
  await publisher.close();

  console.log(table(['clients', 'path', 'delivered msg/s', 'p50 ms', 'p99 ms'], throughput));
  console.log('\nSwitchboard relative to its peers (above 1 favours Switchboard in both columns):\n');
  console.log(table(['clients', 'peer', 'throughput ratio', 'p99 ratio (peer / Switchboard)'], ratios));

  if (RESTART_CLIENTS > 0) {
    console.log(`\n### Broker restart mid-stream (${RESTART_CLIENTS} clients per path, 100 messages/s, clean shutdown and start)\n`);
    const setups: Setup[] = [];
    for (const path of PATHS) setups.push(await start(rabbit, path, RESTART_CLIENTS, 'all'));
    for (const setup of setups) await ask(setup.clients, {cmd: 'track'}, 'tracking', STEP_MS);
    const stream = steadyStream(rabbit.url, 'all', 100);
    await sleep(2000);
    const down = performance.now();
    await rabbit.shutdown();
    await rabbit.restart();
    const outage = performance.now() - down;
    await sleep(3000);
    stream.stop();
    await stream.settled(STEP_MS);
    const total = stream.generated;
    // Stragglers (redeliveries, reconnecting clients) get until no path has made progress for 5 s.
    const deadline = Date.now() + STALL_MS;
    let last = '';
    let quietSince = Date.now();
    while (Date.now() < deadline && Date.now() - quietSince < 5000) {
      const now = JSON.stringify(await Promise.all(setups.map((s) => ask<{total: number}>(s.clients, {cmd: 'status'}, 'status', STEP_MS).then((r) => r.total))));
      if (now !== last) quietSince = Date.now();
      last = now;
      await sleep(500);
    }
    const rows: string[][] = [];
    for (const setup of setups) {
      const l = await ask<{missed: number; clientsMissing: number; duplicates: number}>(setup.clients, {cmd: 'losses', total}, 'losses', STEP_MS);
      rows.push([NAMES[setup.path], String(total), l.missed.toLocaleString('en-US'), `${l.clientsMissing} of ${RESTART_CLIENTS}`, l.duplicates.toLocaleString('en-US')]);
      if (setup.path === 'switchboard') verdicts.push(`0 lost across a broker restart: ${l.missed === 0 ? 'met' : 'NOT met'} (${l.missed} missed)`);
      await finish(setup);
    }
    console.log(`The broker was down and starting again for ${fmt(outage / 1000, 1)} s; the producer republished what it had not had confirmed.\n`);
    console.log(table(['path', 'messages published', 'missed (all clients)', 'clients that missed any', 'duplicates received'], rows));
  }
  if (verdicts.length > 0) console.log(`\nTargets (issue #19):\n${verdicts.map((v) => `- ${v}`).join('\n')}`);
}

const startLoad = load();
console.log(`## RabbitMQ to browser clients: ${PATHS.map((p) => NAMES[p]).join(' vs ')}\n`);
console.log(`Machine: ${machine()}. Clients in separate processes; medians of ${REPS} interleaved runs. Load average at start: ${startLoad}.\n`);
const rabbit = await startRabbit({webStomp: true});
const bail = (signal: string): void => {
  console.error(`bench:rabbitmq: ${signal}, stopping the broker`);
  void rabbit.stop().finally(() => process.exit(1));
};
process.once('SIGINT', () => bail('SIGINT'));
process.once('SIGTERM', () => bail('SIGTERM'));
let failed = false;
try {
  await main(rabbit);
} catch (error) {
  failed = true;
  console.error(`bench:rabbitmq failed: ${(error as Error).stack ?? String(error)}`);
} finally {
  await rabbit.stop();
}
console.log(`\nLoad average at end: ${load()} (the machine is shared: read ratios from one run, not absolute numbers).`);
process.exit(failed ? 1 : 0);
