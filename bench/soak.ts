/**
 * Soak (`npm run bench:soak`, not part of `npm test`): 1,000 WebSocket connections following 10
 * topics, steady publishing, some connections reconnecting from their offsets every second, for
 * 2 minutes. Reports the server's RSS and heap at the start (everyone connected) and the end, and
 * their growth, beside what the topic log retains by design (bounded by its retention).
 *
 * Settings: SOAK_SECONDS (120), SOAK_CONNECTIONS (1000), SOAK_RATE (events/s, 100),
 * SOAK_CHURN (reconnects/s, 5). The server runs in this process; the clients in a child.
 */
import {ContractRegistry, createEnvelope, defineEvent} from '@switchboard/contracts';
import {MemoryTopicLog, SwitchboardServer} from '@switchboard/hub';
import {pino} from 'pino';
import {z} from 'zod';
import {ask, machine, spawn, stop, table} from './lib';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 120);
const CONNECTIONS = Number(process.env['SOAK_CONNECTIONS'] ?? 1000);
const RATE = Number(process.env['SOAK_RATE'] ?? 100);
const CHURN = Number(process.env['SOAK_CHURN'] ?? 5);
const TOPICS = 10;

const Tick = defineEvent({
  type: 'soak.tick',
  description: 'A soak test event of about 200 bytes.',
  schema: z.object({n: z.number().int(), note: z.string().max(200)}),
});

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function sample(log: MemoryTopicLog): {rss: number; heap: number; retained: number} {
  (globalThis as {gc?: () => void}).gc?.();
  const m = process.memoryUsage();
  return {rss: m.rss, heap: m.heapUsed, retained: log.retainedBytes};
}

const log = new MemoryTopicLog();
const server = new SwitchboardServer({registry: new ContractRegistry().register(Tick), log, logger: pino({level: 'warn'})});
const url = await server.listen(0);
const clients = spawn('bench/soak-clients.ts', []);
await ask(clients, {cmd: 'open', url, connections: CONNECTIONS, topics: TOPICS, churnPerSecond: CHURN}, 'opened');
console.log(`${server.hub.connectionCount} connections open; publishing ${RATE} events/s for ${SECONDS} s…`);

// Warm up for a few seconds, so the start figure is a running server's, not a cold one's.
let published = 0;
const publishTick = (): void => {
  const perTick = Math.max(1, Math.round(RATE / 10));
  for (let i = 0; i < perTick; i++) {
    const n = published++;
    server.events.publish(`soak-${n % TOPICS}`, createEnvelope(Tick, {n, note: 'x'.repeat(120)}, {source: 'bench:soak'}));
  }
};
const publisher = setInterval(publishTick, 100);
await new Promise((r) => setTimeout(r, 5_000));
const start = sample(log);
const samples: Array<{at: number; rss: number}> = [{at: 0, rss: start.rss}];
const t0 = Date.now();
const sampler = setInterval(() => samples.push({at: Math.round((Date.now() - t0) / 1000), rss: process.memoryUsage().rss}), 10_000);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
clearInterval(sampler);
clearInterval(publisher);
const end = sample(log);
const connectionsAtEnd = server.hub.connectionCount;
const report = await ask<{received: number; reconnects: number}>(clients, {cmd: 'report'}, 'report');
await stop(clients);
await server.close();

console.log(`\nSoak: ${CONNECTIONS} connections, ${SECONDS} s, ${RATE} events/s over ${TOPICS} topics, ${CHURN} reconnects/s. ${machine()}\n`);
console.log(
  table(
    ['', 'start', 'end', 'growth'],
    [
      ['RSS (MB)', mb(start.rss), mb(end.rss), mb(end.rss - start.rss)],
      ['JS heap used (MB)', mb(start.heap), mb(end.heap), mb(end.heap - start.heap)],
      ['topic log retained (MB, bounded by retention)', mb(start.retained), mb(end.retained), mb(end.retained - start.retained)],
    ],
  ),
);
console.log(`\nEvents published: ${published}; deliveries received: ${report.received}; reconnects: ${report.reconnects}; connections at the end: ${connectionsAtEnd}; slow consumers cut off: ${server.hub.slowConsumerDisconnects}.`);
console.log(`RSS over time (s → MB): ${samples.map((s) => `${s.at}→${mb(s.rss)}`).join(', ')}`);
process.exit(0);
