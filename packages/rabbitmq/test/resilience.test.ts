import {spawn, type ChildProcess} from 'node:child_process';
import amqp, {type ChannelModel, type ConfirmChannel} from 'amqplib';
import {redisEngine, type TopicLog} from '@switchboard/hub';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {testServerArgs} from '../../../scripts/test-servers.js';
import {startRedis, type RedisServer} from '../../hub/test/redis-server.js';
import {startHub, stockChanged, unique, until} from './fixtures.js';
import {startRabbit, type RabbitServer} from './rabbitmq-server.js';

let rabbit: RabbitServer;
let redis: RedisServer;

beforeAll(async () => {
  [rabbit, redis] = await Promise.all([startRabbit(), startRedis()]);
}, 180_000);

afterAll(async () => {
  await rabbit?.stop();
  await redis?.stop();
});

/** Every event id of a topic, in log order. */
async function idsOf(log: TopicLog, topic: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await log.read(topic, after, 1000);
    ids.push(...page.entries.map((e) => e.event.id));
    if (page.entries.length === 0) return ids;
    after = page.next;
  }
}

/** Lost (published ids missing from the log) and duplicated (ids the log holds more than once). */
function count(published: readonly string[], logged: readonly string[]): {lost: number; duplicated: number} {
  const inLog = new Set(logged);
  return {lost: published.filter((id) => !inLog.has(id)).length, duplicated: logged.length - inLog.size};
}

/** A hub node process (kill -9 able) on the shared Redis with one ingest binding. */
async function startNodeProcess(options: Record<string, unknown>): Promise<{url: string; child: ChildProcess}> {
  const child = spawn(process.execPath, [...testServerArgs('rabbitmq-hub-node'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`hub node exited with ${code}`)));
  });
  return {url, child};
}

/**
 * A producer that publishes `total` envelopes to `queue` at a steady pace with confirms, and
 * publishes again what was not confirmed when its connection broke (at-least-once, as producers
 * should): returns every id it published.
 */
async function produce(url: string, queue: string, total: number, perTick: number, onProgress?: (sent: number) => void): Promise<string[]> {
  const envelopes = Array.from({length: total}, (_, i) => stockChanged(i));
  let next = 0;
  while (next < total) {
    let connection: ChannelModel | undefined;
    try {
      connection = await amqp.connect(url);
      connection.on('error', () => {});
      const channel: ConfirmChannel = await connection.createConfirmChannel();
      channel.on('error', () => {});
      while (next < total) {
        const batch = envelopes.slice(next, next + perTick);
        for (const e of batch) channel.sendToQueue(queue, Buffer.from(JSON.stringify(e)), {persistent: true, contentType: 'application/json'});
        await channel.waitForConfirms();
        next += batch.length; // confirmed: the broker has them
        onProgress?.(next);
        await new Promise((r) => setTimeout(r, 10));
      }
      await connection.close();
    } catch {
      await connection?.close().catch(() => {});
      await new Promise((r) => setTimeout(r, 250)); // the broker is restarting: try again
    }
  }
  return envelopes.map((e) => e.id);
}

describe('one consumer per binding across hub nodes, and failures that lose nothing', () => {
  it('two hub nodes on one Redis consume a binding: each message appended once, by one node at a time', async () => {
    const topic = unique('stock');
    const queue = unique('ingest');
    const engines = [redisEngine({url: redis.url, prefix: topic}), redisEngine({url: redis.url, prefix: topic})];
    const a = await startHub(rabbit.url, {ingest: [{topic, queue}]}, {engine: engines[0]!});
    const b = await startHub(rabbit.url, {ingest: [{topic, queue}]}, {engine: engines[1]!});
    try {
      const published = await produce(rabbit.url, queue, 300, 50);
      await until(async () => (await idsOf(a.server.events.log, topic)).length >= 300, 30_000, 'all appended');
      await new Promise((r) => setTimeout(r, 300));
      const logged = await idsOf(a.server.events.log, topic);
      expect(count(published, logged)).toEqual({lost: 0, duplicated: 0});
      expect(logged).toEqual(published); // one active consumer: in publish order
      const ingested = async (n: typeof a) => Number(/switchboard_rabbitmq_ingested_total\{[^}]*\} (\d+)/.exec(await n.server.metrics.registry.metrics())?.[1] ?? 0);
      const byNode = [await ingested(a), await ingested(b)];
      expect(byNode.sort()).toEqual([0, 300]); // the broker delivered to one node only; none saw a message twice
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('kill -9 of the consuming hub node mid-ingest: the other node takes over, 0 lost, 0 duplicated', async () => {
    const topic = unique('stock');
    const queue = unique('ingest');
    const options = {redisUrl: redis.url, amqpUrl: rabbit.url, topic, queue, prefetch: 50};
    const first = await startNodeProcess(options);
    const second = await startNodeProcess(options);
    const reader = redisEngine({url: redis.url});
    const observer = await startHub(rabbit.url, {}, {engine: reader});
    try {
      let killed = false;
      const published = await produce(rabbit.url, queue, 1500, 25, (sent) => {
        if (!killed && sent >= 500) {
          killed = true;
          first.child.kill('SIGKILL'); // mid-ingest: with up to 50 deliveries unacknowledged
        }
      });
      expect(killed).toBe(true);
      await until(async () => new Set(await idsOf(observer.server.events.log, topic)).size >= 1500, 120_000, 'all 1500 appended');
      await new Promise((r) => setTimeout(r, 500));
      const logged = await idsOf(observer.server.events.log, topic);
      expect(count(published, logged)).toEqual({lost: 0, duplicated: 0});
      expect(logged).toHaveLength(1500);
    } finally {
      first.child.kill('SIGKILL');
      second.child.kill('SIGKILL');
      await observer.close();
    }
  }, 240_000);

  it('a broker restart under steady publishing: 0 lost, 0 duplicated, and the hub reconnects by itself', async () => {
    const topic = unique('stock');
    const queue = unique('ingest');
    const hub = await startHub(rabbit.url, {ingest: [{topic, queue}]});
    try {
      let restarted: Promise<void> | undefined;
      const published = await produce(rabbit.url, queue, 1000, 20, (sent) => {
        // A clean restart (a rolling upgrade's): after a crash (SIGKILL) a 3.10 single-node quorum
        // queue can take minutes to elect its leader again, too long for a unit test.
        if (restarted === undefined && sent >= 300) restarted = rabbit.shutdown().then(() => rabbit.restart());
      });
      await restarted;
      await until(async () => new Set(await idsOf(hub.server.events.log, topic)).size >= 1000, 150_000, 'all 1000 appended');
      await new Promise((r) => setTimeout(r, 500));
      const logged = await idsOf(hub.server.events.log, topic);
      expect(count(published, logged)).toEqual({lost: 0, duplicated: 0});
      expect(hub.bridge.connected).toBe(true);
      expect(await hub.server.metrics.registry.metrics()).toMatch(/switchboard_rabbitmq_reconnects_total [1-9]/);
    } finally {
      await hub.close();
    }
  }, 240_000);

  it('the topic log (Redis) down: nothing is acknowledged, the broker keeps the messages, all are appended once when it is back', async () => {
    const store = await startRedis({aof: 'always'});
    const topic = unique('stock');
    const queue = unique('ingest');
    const hub = await startHub(rabbit.url, {ingest: [{topic, queue}], prefetch: 10}, {engine: redisEngine({url: store.url, commandTimeoutMs: 500})});
    try {
      const first = await produce(rabbit.url, queue, 50, 25);
      await until(async () => (await idsOf(hub.server.events.log, topic)).length === 50, 20_000, 'the first 50 appended');
      await store.kill();
      const second = await produce(rabbit.url, queue, 200, 50);
      const metric = async (name: string) => Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(await hub.server.metrics.registry.metrics())?.[1] ?? 0);
      await until(async () => (await metric('switchboard_rabbitmq_append_retries_total')) > 0, 20_000, 'appends retried');
      // The broker holds what the hub could not append: nothing was acknowledged.
      await until(async () => (await metric('switchboard_rabbitmq_backlog')) >= 190, 20_000, 'the backlog kept by the broker');
      await store.restart();
      await until(async () => new Set(await idsOf(hub.server.events.log, topic).catch(() => [])).size >= 250, 60_000, 'all 250 appended');
      const logged = await idsOf(hub.server.events.log, topic);
      expect(count([...first, ...second], logged)).toEqual({lost: 0, duplicated: 0});
    } finally {
      await hub.close();
      await store.stop();
    }
  }, 120_000);
});
