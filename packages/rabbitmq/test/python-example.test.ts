import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {randomUUID} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import * as signalR from '@microsoft/signalr';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ReserveStock, startHub, subscriber, unique, until} from './fixtures.js';
import {startRabbit, type RabbitServer} from './rabbitmq-server.js';

const examples = fileURLToPath(new URL('../../../examples/python/', import.meta.url));
/** Debian's Python, where python3-pika is installed (a pyenv or venv python3 on PATH may lack it); PYTHON overrides. */
const PYTHON = process.env['PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
let rabbit: RabbitServer;

beforeAll(async () => {
  rabbit = await startRabbit();
}, 180_000);

afterAll(async () => {
  await rabbit?.stop();
});

/** Runs one of the Python examples; `lines` fills with its JSON output lines as they come. */
function python(script: string, args: string[]): {child: ChildProcess; lines: Array<Record<string, unknown>>; exited: Promise<number | null>; stderr: () => string} {
  const child = spawn(PYTHON, [`${examples}${script}`, '--url', rabbit.url, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {child, lines, exited, stderr: () => err};
}

describe('a producer, a consumer and a service in Python (Debian\'s python3-pika)', () => {
  it('publishes an event a page shows, consumes an event a page caused, and answers a page\'s command', async () => {
    const exchange = unique('inventory');
    const egress = unique('events');
    const rpcQueue = unique('inventory-rpc');
    const hub = await startHub(rabbit.url, {
      ingest: [{topic: 'stock', exchange, routingKeys: ['stock.#']}],
      egress: [{topics: ['carts'], exchange: egress, from: 'latest'}],
      commands: [{contract: ReserveStock, routingKey: rpcQueue, timeoutMs: 5000}],
    });
    const page = await subscriber(hub.url, 'stock');
    const consumer = python('consumer.py', ['--exchange', egress, '--queue', unique('py'), '--binding', 'cart.#', '--count', '1']);
    const service = python('service.py', ['--queue', rpcQueue, '--count', '2']);
    const browser = new signalR.HubConnectionBuilder().withUrl(`${hub.url}/hubs/events`).configureLogging(signalR.LogLevel.None).build();
    try {
      // Python → RabbitMQ → hub → page
      const producer = python('producer.py', ['--exchange', exchange, '--sku', 'tea', '--available', '3']);
      expect(await producer.exited, producer.stderr()).toBe(0);
      const published = producer.lines[0]!['published'];
      await until(() => page.ids.length === 1, 20_000, 'the page got the Python event');
      expect(page.ids).toEqual([published]);
      expect(page.events[0]!.event).toMatchObject({type: 'stock.changed', data: {sku: 'tea', available: 3}, source: 'service:python-inventory'});

      // page → hub → RabbitMQ → Python
      await until(() => consumer.lines.length > 0 && service.lines.length > 0, 20_000, 'the Python consumer and service ready');
      await browser.start();
      const id = randomUUID();
      const note = {id, type: 'cart.noted', version: 1, time: new Date().toISOString(), source: 'mfe:cart', correlationId: id, data: {note: 'gift wrap, please'}};
      await browser.invoke('publish', 'carts', note);
      expect(await consumer.exited, consumer.stderr()).toBe(0);
      expect(consumer.lines[1]).toMatchObject({id, type: 'cart.noted', data: {note: 'gift wrap, please'}});
      expect(typeof consumer.lines[1]!['offset']).toBe('string');

      // page → command → Python service → reply
      const command = (quantity: number) => ({id: randomUUID(), type: 'stock.reserve', version: 1, time: new Date().toISOString(), source: 'mfe:cart', correlationId: 'c', data: {sku: 'tea', quantity}});
      expect(await browser.invoke('command', command(4))).toEqual({reserved: 4, left: 6});
      await expect(browser.invoke('command', command(7))).rejects.toThrow(/Only 6 of tea left\./);
      expect(await service.exited, service.stderr()).toBe(0);
    } finally {
      for (const p of [consumer, service]) p.child.kill('SIGKILL');
      await browser.stop();
      await page.stop();
      await hub.close();
    }
  }, 90_000);
});
