/**
 * The flood of issue #9 (`npm run bench:flood`): 12 parallel posters of ~60 KB events to 50 topic
 * names that accept unknown types, against a server in this process; the posters run in a child.
 * Before the log was bounded this reached 860 MB in 8 s and ran out of heap at ~52 s. Reports the
 * server's RSS and heap over time, the log's retained bytes, and the answers (202 / 429).
 *
 * Settings: FLOOD_SECONDS (20), FLOOD_POSTERS (12), FLOOD_TOPICS (50).
 */
import {ContractRegistry} from '@switchboard/contracts';
import {DEFAULT_MAX_RETAINED_BYTES, MemoryTopicLog, SwitchboardServer} from '@switchboard/hub';
import {pino} from 'pino';
import {ask, machine, spawn, stop, table} from './lib';

const SECONDS = Number(process.env['FLOOD_SECONDS'] ?? 20);
const POSTERS = Number(process.env['FLOOD_POSTERS'] ?? 12);
const TOPICS = Number(process.env['FLOOD_TOPICS'] ?? 50);

if (process.argv[2] === 'posters') {
  // The child: POSTERS loops posting until told to report.
  let running = true;
  const counts: Record<string, number> = {};
  const body = JSON.stringify({
    id: '',
    type: 'flood.blob',
    version: 1,
    time: new Date().toISOString(),
    source: 'bench:flood',
    correlationId: 'flood',
    data: {blob: 'x'.repeat(60_000)},
  });
  process.on('message', async (m: {cmd: string; url?: string}) => {
    if (m.cmd === 'start') {
      process.send!({cmd: 'started'});
      let n = 0;
      await Promise.all(
        Array.from({length: POSTERS}, async (_, p) => {
          while (running) {
            const i = n++;
            try {
              const r = await fetch(`${m.url}/api/topics/flood-${(p * 7 + i) % TOPICS}/events`, {
                method: 'POST',
                headers: {'content-type': 'application/json'},
                body: body.replace('"id":""', `"id":"f-${i}"`),
              });
              await r.arrayBuffer();
              counts[r.status] = (counts[r.status] ?? 0) + 1;
            } catch {
              counts['failed'] = (counts['failed'] ?? 0) + 1;
            }
          }
        }),
      );
    } else if (m.cmd === 'report') {
      running = false;
      process.send!({cmd: 'report', counts});
    }
  });
} else {
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
  const log = new MemoryTopicLog();
  const topics = Object.fromEntries(Array.from({length: TOPICS}, (_, i) => [`flood-${i}`, {unknownTypes: 'accept' as const}]));
  const server = new SwitchboardServer({registry: new ContractRegistry(), log, topics, logger: pino({level: 'warn'})});
  const url = await server.listen(0);
  const posters = spawn('bench/flood.ts', ['posters']);
  const rows: Array<Array<string | number>> = [];
  let peak = 0;
  const sample = (at: number): void => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    rows.push([at, mb(m.rss), mb(m.heapUsed), mb(log.retainedBytes), log.topicCount]);
  };
  sample(0);
  await ask(posters, {cmd: 'start', url}, 'started');
  for (let s = 2; s <= SECONDS; s += 2) {
    await new Promise((r) => setTimeout(r, 2000));
    sample(s);
  }
  const {counts} = await ask<{counts: Record<string, number>}>(posters, {cmd: 'report'}, 'report');
  await stop(posters);
  await server.close();
  console.log(`\nFlood: ${POSTERS} posters of ~60 KB events to ${TOPICS} topics for ${SECONDS} s; log bound ${mb(DEFAULT_MAX_RETAINED_BYTES)} MB. ${machine()}\n`);
  console.log(table(['s', 'RSS (MB)', 'JS heap used (MB)', 'log retained (MB)', 'topics'], rows));
  console.log(`\nPeak RSS ${mb(peak)} MB. Answers: ${JSON.stringify(counts)}.`);
  process.exit(0);
}
