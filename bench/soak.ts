/**
 * Soak (`npm run bench:soak`, not part of `npm test`): 1,000 WebSocket connections following 10
 * topics, steady publishing, some connections reconnecting from their offsets every second, for
 * 10 minutes. Samples the server's memory once a minute (after a full GC) and reports, per minute,
 * RSS, the JS heap, memory outside the heap, and what the topic log retains; then the growth from
 * the end of the warm-up to the end, against the target of less than 5%.
 *
 * The log fills up to its retention bound (10 topics × 10,000 events) for the first minutes: that
 * growth is by design. When the log fills after the warm-up, the verdict is taken from the minute it
 * is full, and the growth from the warm-up is shown beside it with the log's share.
 *
 * Settings: SOAK_SECONDS (600), SOAK_CONNECTIONS (1000), SOAK_RATE (events/s, 200), SOAK_CHURN
 * (reconnects/s, 5), SOAK_WARMUP_SECONDS (180), SOAK_RETAINED (events kept per topic, 10,000),
 * SOAK_SAVE=1 (write docs/bench/soak.json and soak.svg), SOAK_SNAPSHOT_MINUTES=4,12 (write a heap
 * snapshot after those minutes' samples, into the OS's temporary folder; compare two with
 * `npm run bench:heap-diff -- a.heapsnapshot b.heapsnapshot`). The server runs in this process;
 * the clients in a child.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {getHeapSpaceStatistics, writeHeapSnapshot} from 'node:v8';
import {ContractRegistry, createEnvelope, defineEvent} from '@switchboard/contracts';
import {MemoryTopicLog, SwitchboardServer} from '@switchboard/hub';
import {pino} from 'pino';
import {z} from 'zod';
import {renderLineChart} from './chart';
import {ask, machine, spawn, stop, table} from './lib';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const CONNECTIONS = Number(process.env['SOAK_CONNECTIONS'] ?? 1000);
const RATE = Number(process.env['SOAK_RATE'] ?? 200);
const CHURN = Number(process.env['SOAK_CHURN'] ?? 5);
const WARMUP = Number(process.env['SOAK_WARMUP_SECONDS'] ?? 180);
const SAVE = process.env['SOAK_SAVE'] === '1';
const TOPICS = 10;
/** Per-topic retention (the log's default, 10,000), named here so the fill time can be foreseen. */
const RETAINED_PER_TOPIC = Number(process.env['SOAK_RETAINED'] ?? 10_000);
const TARGET_PERCENT = 5;
const SNAPSHOT_MINUTES = new Set((process.env['SOAK_SNAPSHOT_MINUTES'] ?? '').split(',').filter(Boolean).map(Number));

const Tick = defineEvent({
  type: 'soak.tick',
  description: 'A soak test event of about 200 bytes.',
  schema: z.object({n: z.number().int(), note: z.string().max(200)}),
});

interface Sample {
  readonly minute: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Of the heap's size: the young generation (grows with the allocation rate, to V8's bound) and the old. */
  readonly newSpace: number;
  readonly oldSpace: number;
  /** Memory of C++ objects bound to JS ones, Buffers included. */
  readonly external: number;
  readonly arrayBuffers: number;
  readonly retainedEvents: number;
  /** The log's estimate: the retained events' JSON length. */
  readonly retainedBytes: number;
  readonly published: number;
  readonly received: number;
  readonly reconnects: number;
  readonly connections: number;
  readonly load: number;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const pct = (from: number, to: number): string => `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)}%`;

const log = new MemoryTopicLog({maxEvents: RETAINED_PER_TOPIC});
const server = new SwitchboardServer({registry: new ContractRegistry().register(Tick), log, logger: pino({level: 'warn'})});
const url = await server.listen(0);
const clients = spawn('bench/soak-clients.ts', []);
await ask(clients, {cmd: 'open', url, connections: CONNECTIONS, topics: TOPICS, churnPerSecond: CHURN}, 'opened');
console.log(`${server.hub.connectionCount} connections open; publishing ${RATE} events/s for ${SECONDS} s (${machine()})…`);

let published = 0;
const publisher = setInterval(() => {
  const perTick = Math.max(1, Math.round(RATE / 10));
  for (let i = 0; i < perTick; i++) {
    const n = published++;
    server.events.publish(`soak-${n % TOPICS}`, createEnvelope(Tick, {n, note: 'x'.repeat(120)}, {source: 'bench:soak'}));
  }
}, 100);

async function sample(minute: number): Promise<Sample> {
  (globalThis as {gc?: () => void}).gc?.();
  const m = process.memoryUsage();
  const space = (name: string): number => getHeapSpaceStatistics().find((x) => x.space_name === name)?.space_size ?? 0;
  const count = await ask<{received: number; reconnects: number}>(clients, {cmd: 'count'}, 'count', 30_000);
  let retainedEvents = 0;
  for (const n of log.sizes().values()) retainedEvents += n;
  return {
    minute,
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    newSpace: space('new_space'),
    oldSpace: space('old_space'),
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    retainedEvents,
    retainedBytes: log.retainedBytes,
    published,
    received: count.received,
    reconnects: count.reconnects,
    connections: server.hub.connectionCount,
    load: loadavg()[0]!,
  };
}

const t0 = Date.now();
const samples: Sample[] = [await sample(0)];
for (let minute = 1; minute * 60 <= SECONDS; minute++) {
  await new Promise((r) => setTimeout(r, Math.max(0, t0 + minute * 60_000 - Date.now())));
  const s = await sample(minute);
  samples.push(s);
  console.log(
    `minute ${minute}: RSS ${mb(s.rss)} MB, heap ${mb(s.heapUsed)}/${mb(s.heapTotal)} MB (new ${mb(s.newSpace)}, old ${mb(s.oldSpace)}), external ${mb(s.external)} MB, ` +
      `retained ${s.retainedEvents} events (${mb(s.retainedBytes)} MB JSON), ${s.connections} connections, load ${s.load.toFixed(2)}`,
  );
  if (SNAPSHOT_MINUTES.has(minute)) console.log(`heap snapshot: ${writeHeapSnapshot(join(tmpdir(), `soak-${process.pid}-${minute}.heapsnapshot`))}`);
}
clearInterval(publisher);
const cut = server.hub.slowConsumerDisconnects;
await ask(clients, {cmd: 'report'}, 'report');
await stop(clients);
await server.close();

// The log is full once it holds its bound (or stops growing by more than 1% a minute).
const bound = TOPICS * RETAINED_PER_TOPIC;
const fullAt = samples.find((s, i) => s.retainedEvents >= bound * 0.99 || (i > 0 && s.retainedEvents > 0 && s.retainedEvents <= samples[i - 1]!.retainedEvents * 1.01))?.minute;
const warm = samples.find((s) => s.minute * 60 >= WARMUP) ?? samples[0]!;
// Steady state: the log full and every retained event replaced once since (twice the bound
// published), so each topic's buffers and id index have reached the size they keep. Until then
// they still grow by design: measured from the minute the log fills, the first turnover showed as
// a one-off step (the id index's hash table doubling, since rebuilt so it cannot) that a run of
// 20 minutes then reports as growth.
const steady = samples.find((s) => s.minute >= Math.max(warm.minute, fullAt ?? Number.POSITIVE_INFINITY) && s.published >= 2 * bound);
const full = samples.find((s) => s.minute >= Math.max(warm.minute, fullAt ?? Number.POSITIVE_INFINITY));
const last = samples[samples.length - 1]!;

/** Least-squares slope in MB per minute of `pick` over `from`..end. */
function slope(from: Sample, pick: (s: Sample) => number): number {
  const xs = samples.filter((s) => s.minute >= from.minute);
  if (xs.length < 2) return Number.NaN;
  const mx = xs.reduce((a, s) => a + s.minute, 0) / xs.length;
  const my = xs.reduce((a, s) => a + pick(s), 0) / xs.length;
  const num = xs.reduce((a, s) => a + (s.minute - mx) * (pick(s) - my), 0);
  const den = xs.reduce((a, s) => a + (s.minute - mx) ** 2, 0);
  return num / den / 1024 / 1024;
}

const rows = samples.map((s, i) => {
  const prev = samples[i - 1];
  const perSecond = prev === undefined ? '–' : Math.round((s.received - prev.received) / 60).toLocaleString('en-US');
  return [s.minute, mb(s.rss), mb(s.heapUsed), mb(s.heapTotal), mb(s.newSpace), mb(s.oldSpace), mb(s.external), mb(s.arrayBuffers), s.retainedEvents.toLocaleString('en-US'), mb(s.retainedBytes), perSecond, s.load.toFixed(2)];
});
const loads = samples.map((s) => s.load);
const header = `Soak: ${CONNECTIONS} WebSocket connections, ${SECONDS} s, ${RATE} events/s over ${TOPICS} topics, ${CHURN} reconnects/s; ${machine()}; load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}; ${new Date().toISOString().slice(0, 10)}.`;
console.log(`\n${header}\n`);
console.log(table(['minute', 'RSS (MB)', 'heap used', 'heap total', 'new space', 'old space', 'external', 'array buffers', 'events retained', 'retained JSON (MB)', 'deliveries/s', 'load'], rows));
console.log(`\nEvents published: ${published}; deliveries received: ${last.received}; reconnects: ${last.reconnects}; connections at the end: ${last.connections}; slow consumers cut off: ${cut}.`);
console.log(
  `The log's bound is ${bound.toLocaleString('en-US')} events (${TOPICS} topics × ${RETAINED_PER_TOPIC.toLocaleString('en-US')}), ` +
    `full after about ${((bound / RATE) / 60).toFixed(1)} min at ${RATE} events/s; ` +
    (fullAt === undefined ? 'it did not fill in this run.' : `it was full at minute ${fullAt} (${mb(samples.find((s) => s.minute === fullAt)!.retainedBytes)} MB of JSON).`),
);
const verdicts: string[] = [];
if (last.minute > warm.minute) {
  const logShare = last.retainedBytes - warm.retainedBytes;
  console.log(
    `\nFrom the end of the warm-up (minute ${warm.minute}) to the end (minute ${last.minute}): RSS ${mb(warm.rss)} → ${mb(last.rss)} MB (${pct(warm.rss, last.rss)}), ` +
      `heap used ${mb(warm.heapUsed)} → ${mb(last.heapUsed)} MB (${pct(warm.heapUsed, last.heapUsed)}); of it the log's retained JSON grew ${mb(logShare)} MB (by design, up to its bound). ` +
      `Slope: RSS ${slope(warm, (s) => s.rss).toFixed(2)} MB/min, heap ${slope(warm, (s) => s.heapUsed).toFixed(2)} MB/min.`,
  );
  verdicts.push(`RSS after warm-up (minute ${warm.minute} → ${last.minute}): ${pct(warm.rss, last.rss)}`);
}
if (full !== undefined && last.minute > full.minute) {
  console.log(
    `With the log full (minute ${full.minute} → ${last.minute}): RSS ${mb(full.rss)} → ${mb(last.rss)} MB (${pct(full.rss, last.rss)}), heap used ${pct(full.heapUsed, last.heapUsed)}; ` +
      `slope RSS ${slope(full, (s) => s.rss).toFixed(2)} MB/min, heap ${slope(full, (s) => s.heapUsed).toFixed(2)} MB/min.`,
  );
  verdicts.push(`RSS with the log full (minute ${full.minute} → ${last.minute}): ${pct(full.rss, last.rss)}`);
}
if (steady !== undefined && last.minute > steady.minute) {
  const growth = ((last.rss - steady.rss) / steady.rss) * 100;
  console.log(
    `Steady (the log full and turned over once; minute ${steady.minute} → ${last.minute}): RSS ${mb(steady.rss)} → ${mb(last.rss)} MB (${pct(steady.rss, last.rss)}), heap used ${mb(steady.heapUsed)} → ${mb(last.heapUsed)} MB (${pct(steady.heapUsed, last.heapUsed)}); ` +
      `slope RSS ${slope(steady, (s) => s.rss).toFixed(2)} MB/min, heap ${slope(steady, (s) => s.heapUsed).toFixed(2)} MB/min.`,
  );
  verdicts.push(`RSS steady (minute ${steady.minute} → ${last.minute}): ${pct(steady.rss, last.rss)}`);
  console.log(`\nVerdict: ${growth < TARGET_PERCENT ? 'PASS' : 'FAIL'} — RSS grew ${growth.toFixed(1)}% from the steady state to the end (target < ${TARGET_PERCENT}%).`);
} else {
  console.log(`\nVerdict: none — the run ended before the log had filled and turned over once (run longer: SOAK_SECONDS).`);
}

if (SAVE) {
  mkdirSync('docs/bench', {recursive: true});
  writeFileSync('docs/bench/soak.json', JSON.stringify({header, settings: {SECONDS, CONNECTIONS, RATE, CHURN, WARMUP, TOPICS, RETAINED_PER_TOPIC}, fullAt, verdicts, published, slowConsumersCut: cut, samples}, null, 2) + '\n');
  const toMb = (pick: (s: Sample) => number) => samples.map((s) => +mb(pick(s)));
  writeFileSync(
    'docs/bench/soak.svg',
    renderLineChart({
      title: `Soak: server memory per minute (${CONNECTIONS.toLocaleString('en-US')} WebSockets, ${RATE} events/s)`,
      subtitle: `${verdicts.join('; ')}; ${new Date().toISOString().slice(0, 10)}`,
      unit: 'MB',
      xLabel: 'minute',
      x: samples.map((s) => s.minute),
      series: [
        {name: 'RSS', values: toMb((s) => s.rss)},
        {name: 'JS heap used', values: toMb((s) => s.heapUsed)},
        {name: 'external (Buffers…)', values: toMb((s) => s.external)},
        {name: 'log retained (JSON)', values: toMb((s) => s.retainedBytes)},
      ],
      ...(steady === undefined ? {} : {marker: {x: steady.minute, label: 'log full and turned over once'}}),
    }),
  );
  console.log('Wrote docs/bench/soak.json and docs/bench/soak.svg.');
}
process.exit(0);
