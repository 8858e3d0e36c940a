import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {pino} from 'pino';
import {redisEngine, SwitchboardServer, type ReadResult} from '../src/index.js';
import {testRegistry} from './fixtures.js';
import {client, orderPlaced, postEvent} from './helpers.js';
import {recordEvents, startNode, until} from './redis-nodes.js';
import {freePort, startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer | undefined;
let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  await redis?.stop();
  server = redis = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('while Redis is down', () => {
  it('refuses publishes (503, invocation error), loses none it acknowledged, duplicates nothing, and resumes by itself', async () => {
    // appendfsync always: every acknowledged append is on disk before the reply, so a kill -9 loses none.
    redis = await startRedis({aof: 'always'});
    let url: string;
    ({server, url} = await startNode(redis.url));
    const subscriber = client(url);
    opened.push(subscriber);
    await subscriber.start();
    const received = recordEvents(subscriber);
    await subscriber.invoke('subscribe', 'orders', null);
    const publisher = client(url);
    opened.push(publisher);
    await publisher.start();

    const acked: string[] = [];
    const refused: string[] = [];
    const other: number[] = [];
    let n = 0;
    let running = true;
    const publishing = (async () => {
      while (running) {
        const id = `e-${n++}`;
        const status = (await postEvent(url, 'orders', orderPlaced({id}))).status;
        if (status === 202) acked.push(id);
        else if (status === 503) refused.push(id);
        else other.push(status);
        await sleep(10);
      }
    })();
    await until(() => acked.length >= 20);
    await redis.kill();
    await sleep(500);
    // A hub invocation fails with a clear error rather than being acknowledged.
    await expect(publisher.invoke('publish', 'orders', orderPlaced({id: 'via-hub'}))).rejects.toThrow(/event store is unavailable/);
    await sleep(4500);
    const ackedBeforeRestart = acked.length;
    await redis.restart();
    await until(() => acked.length >= ackedBeforeRestart + 20, 20_000, 'publishing to resume');
    running = false;
    await publishing;

    expect(other).toEqual([]);
    expect(refused.length).toBeGreaterThan(10);
    const stored: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await server.events.log.read('orders', after, 1000);
      stored.push(...page.entries.map((e) => e.event.id));
      if (page.entries.length < 1000) break;
      after = page.next;
    }
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.filter((id) => !refused.includes(id))).toEqual(acked);
    // The subscriber got every stored event once, in order, across the outage.
    await until(() => received.length >= stored.length, 15_000, 'the subscriber to catch up');
    await sleep(100);
    expect(received).toEqual(stored);
  }, 60_000);

  it('appends an HTTP batch whole or, while Redis is down, not at all (503)', async () => {
    redis = await startRedis({aof: 'always'});
    let url: string;
    ({server, url} = await startNode(redis.url));
    const batch = (ids: string[]) =>
      fetch(`${url}/api/topics/orders/events`, {
        method: 'POST',
        headers: {'content-type': 'application/cloudevents-batch+json'},
        body: JSON.stringify(ids.map((id) => ({specversion: '1.0', id, source: 'urn:test', type: 'order.placed', datacontenttype: 'application/json', data: {orderId: id, sku: 'tea', quantity: 1}}))),
      });
    const first = await batch(['a', 'b', 'c']);
    expect(first.status).toBe(202);
    const {offsets} = (await first.json()) as {offsets: string[]};
    const epoch = offsets[0]!.split(':')[0];
    expect(offsets).toEqual([1, 2, 3].map((n) => `${epoch}:${n}`));
    // A duplicate in a batch keeps its first offset; the new events follow on.
    expect(await (await batch(['d', 'b', 'e'])).json()).toEqual({offsets: [`${epoch}:4`, `${epoch}:2`, `${epoch}:5`]});

    await redis.kill();
    const refused = await batch(['f', 'g', 'h']);
    expect(refused.status).toBe(503);
    await redis.restart();
    const deadline = Date.now() + 10_000;
    let page: ReadResult;
    for (;;) {
      try {
        page = await server.events.log.read('orders', null, 100);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
    expect(page.entries.map((e) => e.event.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  }, 30_000);

  it('fails to start, saying so, when Redis cannot be reached', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const lonely = new SwitchboardServer({registry: testRegistry(), logger: pino({level: 'silent'}), engine: redisEngine({url, startTimeoutMs: 500})});
    await expect(lonely.listen(0)).rejects.toThrow(`Redis at ${url} did not answer within 500 ms`);
  });
});
