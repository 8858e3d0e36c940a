/** Starting a cluster under test for bench/cluster: `n` nodes of one kind on one Redis, and the names the tables use. */
import type {ChildProcess} from 'node:child_process';
import {ask, spawn} from '../lib';
import type {Kind} from './node';

/** The servers' names in the tables. */
export const NAMES: Record<Kind, string> = {
  'sb-topic': 'Switchboard topic (Streams)',
  'sb-hub': 'Switchboard hub all-send (pub/sub)',
  'aspnet-redis': 'ASP.NET Core SignalR + Redis backplane',
  'sio-streams': 'Socket.IO 4 + redis-streams-adapter',
  'sio-pubsub': 'Socket.IO 4 + redis-adapter',
};

/** How long a node may take to start (dotnet's first start on a busy machine is slow). */
const START_MS = 120_000;

let run = 0;

/** Starts `n` nodes of `kind`, each with a fresh key prefix for this run; resolves with them and their ports. */
export async function startNodes(kind: Kind, redisUrl: string, n: number): Promise<{nodes: ChildProcess[]; ports: number[]}> {
  process.env['BENCH_RUN'] = String(++run);
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") adds V8/Node flags to the nodes, for profiling.
  const flags = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const nodes = Array.from({length: n}, () => spawn('bench/cluster/node.ts', [kind, redisUrl], flags));
  const ports = await Promise.all(nodes.map((node) => ask<{port: number}>(node, undefined, 'ready', START_MS).then((r) => r.port)));
  return {nodes, ports};
}

/** Crashes a node (its server process is SIGKILLed); resolves with the wall-clock ms just before, once it is gone. */
export async function crash(node: ChildProcess): Promise<number> {
  const gone = new Promise((resolve) => node.once('exit', resolve));
  const at = performance.timeOrigin + performance.now();
  node.send({cmd: 'die'});
  await gone;
  return at;
}

/** Formats a number the tables' way. */
export const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
