/**
 * Bus benchmark: in headless Chromium, events per second for raw EventTarget + CustomEvent, mitt,
 * Podium's MessageBus (an envelope with a timestamp and a replay log), Trutoo's event bus (payloads
 * validated against JSON Schema) and the Switchboard bus with 1 and 10 subscribers, side by side and interleaved in one run, as ratios.
 * Then the gzip size of the page runtime (contracts + bus + Lit glue, without lit and zod).
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import {chromium} from '@playwright/test';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import sirv from 'sirv';
import {build, defaultClientConditions} from 'vite';
import {CHROMIUM_ARGS, findChromium} from '../../scripts/chromium';
import {machine, median, table} from '../lib';

const here = dirname(fileURLToPath(import.meta.url));
const REPS = Number(process.env['BENCH_REPS'] ?? 5);
const fmt = (n: number, d = 2) => n.toLocaleString('en-US', {maximumFractionDigits: d, minimumFractionDigits: d});

// A production build of the page, so the code measured is what ships (minified, no dev transforms),
// from the kit's sources (the `switchboard-source` condition), so it needs no `npm run build` first.
const out = mkdtempSync(join(tmpdir(), 'sb-bench-'));
await build({
  configFile: false,
  root: here,
  logLevel: 'error',
  resolve: {conditions: ['switchboard-source', ...defaultClientConditions]},
  build: {outDir: out, target: 'es2022'},
});
const server = createServer(sirv(out));
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const browser = await chromium.launch({executablePath: findChromium(), args: CHROMIUM_ARGS});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', {state: 'attached'});
  const names = await page.evaluate(() => window.bench.names);
  const version = browser.version();
  console.log(`## Page bus: Switchboard vs EventTarget + CustomEvent, mitt, Podium's MessageBus and Trutoo's event bus\n\nMachine: ${machine()}, Chromium ${version}. Medians of ${REPS} interleaved runs of ~300 ms.\n`);
  const rows: string[][] = [];
  const ratios: string[][] = [];
  for (const subscribers of [1, 10]) {
    const runs = new Map<string, number[]>(names.map((n) => [n, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const name of names) runs.get(name)!.push(await page.evaluate(([n, s]) => window.bench.measure(n, s, 300), [name, subscribers] as const));
    }
    const rate = new Map(names.map((n) => [n, median(runs.get(n)!)]));
    for (const name of names) rows.push([String(subscribers), name, fmt(rate.get(name)! / 1e6, 3)]);
    const raw = rate.get('EventTarget + CustomEvent')!;
    const mittRate = rate.get('mitt')!;
    const podium = rate.get('@podium/browser MessageBus')!;
    const trutoo = rate.get('@trutoo/event-bus, JSON Schema')!;
    for (const name of names.filter((n) => n.startsWith('bus'))) {
      const r = rate.get(name)!;
      ratios.push([String(subscribers), name, `${fmt(r / raw)}×`, `${fmt(r / mittRate)}×`, `${fmt(r / podium)}×`, `${fmt(r / trutoo, 1)}×`]);
    }
  }
  console.log(table(['subscribers', 'case', 'M events/s'], rows));
  console.log('\nThe bus relative to its peers (events/s ratio; above 1 means faster):\n');
  console.log(table(['subscribers', 'bus case', 'vs EventTarget + CustomEvent', 'vs mitt', 'vs Podium MessageBus', 'vs Trutoo (JSON Schema)'], ratios));
} finally {
  await browser.close();
  server.close();
  rmSync(out, {recursive: true, force: true});
}

// The runtime a page pays for: the kit's own code, minified, without lit and zod (which pages share).
const sizeOut = mkdtempSync(join(tmpdir(), 'sb-size-'));
try {
  await build({
    configFile: false,
    root: resolve(here, '../..'),
    logLevel: 'error',
    resolve: {conditions: ['switchboard-source', ...defaultClientConditions]},
    build: {
      outDir: sizeOut,
      target: 'es2022',
      minify: true,
      lib: {entry: resolve(here, 'runtime.ts'), formats: ['es'], fileName: () => 'runtime.js'},
      rolldownOptions: {external: [/^lit/, /^@lit\//, /^zod/], output: {minify: true}},
    },
  });
  const code = readFileSync(join(sizeOut, 'runtime.js'));
  const gz = gzipSync(code, {level: 9}).length;
  console.log(`\n### Page runtime size\n\ncontracts + bus + Lit glue, minified, without lit and zod: ${fmt(code.length / 1024, 1)} KB, **${fmt(gz / 1024, 1)} KB gzip** (target ≤ 10 KB).`);
} finally {
  rmSync(sizeOut, {recursive: true, force: true});
}
