/**
 * The node-kill rows of bench/cluster: 100 clients on node B, 200 events/s published on node A;
 * B's server process is SIGKILLed and each client reconnects to A (./resume-clients.ts; for the
 * SignalR servers also the official client behind a balancer, ./official-clients.ts). Per server:
 * how many clients receive again, the time to the first event after the kill (median, max), where
 * it goes (medians of close noticed, handshake answered, subscribed), the most resubscribes in
 * flight at once, and the events each server lost.
 */
import {ask, median, spawn, stop, table} from '../lib';
import type {Kind} from './node';
import {crash, fmt, NAMES, startNodes} from './setup';

interface Report {
  gaps: number;
  duplicates: number;
  resumed: number;
  retries: number;
  peakSubscribing: number;
  stages: {closed: number[]; negotiated: number[]; opened: number[]; connected: number[]; subscribed: number[]; first: number[]};
}

/** Measures each server (and client kind) of `measured` in turn on `redisUrl`; returns the section's Markdown table. */
export async function killRows(
  measured: ReadonlyArray<{kind: Kind; official?: boolean}>,
  redisUrl: string,
  payload: object,
  clientCount = Number(process.env['BENCH_KILL_CLIENTS'] ?? 100),
): Promise<string> {
  const rows: string[][] = [];
  for (const {kind, official = false} of measured) {
    const {nodes, ports} = await startNodes(kind, redisUrl, 2);
    const script = official ? 'bench/cluster/official-clients.ts' : 'bench/cluster/resume-clients.ts';
    const clients = spawn(script, [kind, String(ports[0]), String(ports[1]), String(clientCount)]);
    const name = `${NAMES[kind]}${official ? ', official client as the page bridge sets it up' : ''}`;
    try {
      await ask(clients, undefined, 'ready', 60_000);
      const sending = ask(nodes[0]!, {cmd: 'rate', perSecond: 200, durationMs: 6000, payload}, 'rate-sent', 120_000);
      // Every client receiving, then a second more: the kill falls mid-stream.
      await ask(clients, {cmd: 'receiving'}, 'receiving', 60_000);
      await new Promise((r) => setTimeout(r, 1000));
      const at = await crash(nodes[1]!);
      clients.send({cmd: 'killed', at});
      await sending;
      // Time for the last events to arrive (BENCH_KILL_TAIL_MS, for a machine too busy for 1.5 s).
      await new Promise((r) => setTimeout(r, Number(process.env['BENCH_KILL_TAIL_MS'] ?? 1500)));
      const {seqs: refused} = await ask<{seqs: number[]}>(nodes[0]!, {cmd: 'refused'}, 'refused', 60_000);
      const report = await ask<Report>(clients, {cmd: 'report', refused}, 'report', 60_000);
      const med = (values: number[]) => (values.length === 0 ? '–' : fmt(median(values), 0));
      const {first} = report.stages;
      rows.push([
        name,
        `${report.resumed}/${clientCount}`,
        med(first),
        first.length === 0 ? '–' : fmt(Math.max(...first), 0),
        `${med(report.stages.closed)} / ${med(report.stages.negotiated)} / ${med(report.stages.connected)} / ${kind === 'sb-topic' ? med(report.stages.subscribed) : '–'}`,
        kind === 'sb-topic' ? String(report.peakSubscribing) : '–',
        String(report.retries),
        refused.length === 0 ? String(report.gaps) : `${report.gaps} (and ${refused.length} publishes refused to the publisher)`,
        String(report.duplicates),
      ]);
      const medians = Object.fromEntries(Object.entries(report.stages).map(([stage, values]) => [stage, values.length === 0 ? null : `${values.length}× ${fmt(median(values), 0)}`]));
      console.error(`node kill, ${name}: ${JSON.stringify({...report, stages: medians})}`);
    } finally {
      // Node B is already gone unless something failed before the kill.
      await Promise.all([...nodes, clients].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => stop(c)));
    }
  }
  return table(
    [
      'server',
      'clients receiving again',
      'median ms to the first event after the kill',
      'max ms',
      'median ms to close noticed / negotiate answered / handshake answered / subscribed',
      'most resubscribes in flight',
      'retries',
      'events missed (all clients)',
      'duplicates',
    ],
    rows,
  );
}
