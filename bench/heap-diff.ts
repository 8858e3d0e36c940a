/**
 * What grew between two heap snapshots of one process (`npm run bench:heap-diff -- a b`): objects
 * counted by kind and constructor name, the 25 whose retained count or self size grew most. Used to
 * find what the soak's heap keeps (`SOAK_SNAPSHOT_MINUTES`); not part of `npm test`.
 */
import {readFileSync} from 'node:fs';
import {table} from './lib';

interface Snapshot {
  snapshot: {meta: {node_fields: string[]; node_types: [string[], ...unknown[]]}};
  nodes: number[];
  strings: string[];
}

/** Count and self size per `<kind> <name>` (strings and code grouped by kind only). */
function census(path: string): Map<string, {count: number; size: number}> {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const kinds = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const byKey = new Map<string, {count: number; size: number}>();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const kind = kinds[heap.nodes[i + typeAt]!]!;
    const named = kind === 'object' || kind === 'closure' || kind === 'native';
    const key = named ? `${kind} ${heap.strings[heap.nodes[i + nameAt]!]}` : kind;
    const entry = byKey.get(key) ?? {count: 0, size: 0};
    entry.count++;
    entry.size += heap.nodes[i + sizeAt]!;
    byKey.set(key, entry);
  }
  return byKey;
}

const [before, after] = process.argv.slice(2);
if (before === undefined || after === undefined) {
  console.error('usage: npm run bench:heap-diff -- <before.heapsnapshot> <after.heapsnapshot>');
  process.exit(2);
}
const a = census(before);
const b = census(after);
const rows = [...b]
  .map(([key, now]) => {
    const was = a.get(key) ?? {count: 0, size: 0};
    return {key, count: now.count - was.count, size: now.size - was.size, total: now.size};
  })
  .sort((x, y) => y.size - x.size)
  .slice(0, 25);
console.log(table(['kind and constructor', 'objects added', 'bytes added', 'bytes now'], rows.map((r) => [r.key.slice(0, 60), r.count.toLocaleString('en-US'), r.size.toLocaleString('en-US'), r.total.toLocaleString('en-US')])));
