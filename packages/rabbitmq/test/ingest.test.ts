import amqp, {type ChannelModel, type ConfirmChannel} from 'amqplib';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DEAD_LETTER_HEADERS} from '../src/index.js';
import {startHub, stockChanged, subscriber, unique, until} from './fixtures.js';
import {startRabbit, type RabbitServer} from './rabbitmq-server.js';

let rabbit: RabbitServer;
let producer: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  rabbit = await startRabbit();
  producer = await amqp.connect(rabbit.url);
  channel = await producer.createConfirmChannel();
}, 180_000);

afterAll(async () => {
  await producer?.close().catch(() => {});
  await rabbit?.stop();
});

/** Publishes with a confirm. */
async function publish(exchange: string, key: string, body: unknown, options: amqp.Options.Publish = {}): Promise<void> {
  channel.publish(exchange, key, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), {persistent: true, ...options});
  await channel.waitForConfirms();
}

/** Everything in the dead-letter queue now (consumed and acknowledged). */
async function drainDeadLetters(queue = 'switchboard.dead-letter'): Promise<amqp.GetMessage[]> {
  const got: amqp.GetMessage[] = [];
  for (;;) {
    const m = await channel.get(queue, {noAck: true});
    if (m === false) return got;
    got.push(m);
  }
}

describe('ingest: RabbitMQ → topic → hub clients', () => {
  it('appends envelopes, structured and binary CloudEvents from an exchange, in order, and pushes them to subscribers', async () => {
    const exchange = unique('inventory');
    const topic = unique('stock');
    const hub = await startHub(rabbit.url, {ingest: [{topic, exchange, routingKeys: ['stock.#']}]});
    try {
      const page = await subscriber(hub.url, topic);
      const envelope = stockChanged(5);
      await publish(exchange, 'stock.changed', envelope, {contentType: 'application/json'});
      await publish(exchange, 'stock.changed', {specversion: '1.0', id: 'ce-structured-1', source: 'svc:py', type: 'stock.changed', data: {sku: 'tea', available: 4}}, {
        contentType: 'application/cloudevents+json',
      });
      await publish(exchange, 'stock.changed', {sku: 'tea', available: 3}, {
        contentType: 'application/json',
        headers: {cloudEvents_specversion: '1.0', cloudEvents_id: 'ce-binary-1', cloudEvents_source: 'svc:dotnet', cloudEvents_type: 'stock.changed', cloudEvents_correlationid: 'flow-9'},
      });
      await publish(exchange, 'other.key', stockChanged(99)); // not bound: never reaches the topic
      await until(() => page.ids.length >= 3, 20_000, 'three events pushed');
      expect(page.ids).toEqual([envelope['id'], 'ce-structured-1', 'ce-binary-1']);
      expect(page.events.map((e) => e.event.data)).toEqual([{sku: 'tea', available: 5}, {sku: 'tea', available: 4}, {sku: 'tea', available: 3}]);
      const stored = await hub.server.events.log.read(topic, null, 10);
      expect(stored.entries.map((e) => e.event.id)).toEqual(page.ids);
      expect(stored.entries[2]!.event).toMatchObject({source: 'svc:dotnet', correlationId: 'flow-9', version: 1});
      await page.stop();
    } finally {
      await hub.close();
    }
  });

  it('dead-letters invalid and policy-refused messages with the reason, appends nothing of them, and keeps going', async () => {
    const queue = unique('ingest');
    const topic = unique('stock');
    const dlx = unique('dead');
    const hub = await startHub(rabbit.url, {ingest: [{topic, queue}], deadLetterExchange: dlx, maxMessageBytes: 2048});
    try {
      await publish('', queue, 'not json {', {messageId: 'm-garbage'});
      await publish('', queue, stockChanged(-1, {id: 'bad-schema'}));
      await publish('', queue, {id: 'srv-owned', type: 'price.set', version: 1, time: new Date().toISOString(), source: 'x', correlationId: 'c', data: {sku: 'tea', cents: 100}});
      await publish('', queue, {specversion: '0.3', id: 'old-ce', source: 's', type: 'stock.changed'}, {contentType: 'application/cloudevents+json'});
      await publish('', queue, 'x'.repeat(3000), {messageId: 'm-large'});
      await publish('', queue, stockChanged(7, {id: 'good-after'}));
      await until(async () => (await hub.server.events.log.read(topic, null, 10)).entries.length === 1, 20_000, 'the valid message appended');
      const stored = await hub.server.events.log.read(topic, null, 10);
      expect(stored.entries.map((e) => e.event.id)).toEqual(['good-after']);
      let dead: amqp.GetMessage[] = [];
      await until(async () => (dead = [...dead, ...(await drainDeadLetters(dlx))]).length >= 5, 20_000, 'five dead letters');
      const reasons = dead.map((m) => String(m.properties.headers?.[DEAD_LETTER_HEADERS.reason]));
      expect(reasons[0]).toMatch(/not valid JSON/);
      expect(reasons[1]).toMatch(/invalid/i);
      expect(JSON.parse(String(dead[1]!.properties.headers?.[DEAD_LETTER_HEADERS.issues]))[0].path).toBe('data.available');
      expect(reasons[2]).toMatch(/Forbidden.*price\.set|server/i);
      expect(reasons[3]).toMatch(/specversion|CloudEvent/);
      expect(reasons[4]).toMatch(/too large.*2048/);
      expect(dead[0]!.properties.messageId).toBe('m-garbage');
      expect(dead[0]!.content.toString()).toBe('not json {');
      expect(dead.every((m) => m.properties.headers?.[DEAD_LETTER_HEADERS.topic] === topic)).toBe(true);
      const metrics = await hub.server.metrics.registry.metrics();
      expect(metrics).toMatch(new RegExp(`switchboard_rabbitmq_dead_letters_total\\{topic="${topic}"\\} 5`));
      expect(metrics).toMatch(new RegExp(`switchboard_rabbitmq_ingested_total\\{topic="${topic}"\\} 1`));
    } finally {
      await hub.close();
    }
  });

  it('appends a redelivered or resent envelope once (the topic log deduplicates by id)', async () => {
    const queue = unique('ingest');
    const topic = unique('stock');
    const hub = await startHub(rabbit.url, {ingest: [{topic, queue}]});
    try {
      const envelope = stockChanged(1);
      for (let i = 0; i < 3; i++) await publish('', queue, envelope);
      await publish('', queue, stockChanged(2, {id: 'last'}));
      await until(async () => (await hub.server.events.log.read(topic, null, 10)).entries.at(-1)?.event.id === 'last', 20_000, 'the last message appended');
      expect((await hub.server.events.log.read(topic, null, 10)).entries.map((e) => e.event.id)).toEqual([envelope['id'], 'last']);
      expect(await hub.server.metrics.registry.metrics()).toMatch(new RegExp(`switchboard_rabbitmq_duplicates_total\\{topic="${topic}"\\} 2`));
    } finally {
      await hub.close();
    }
  });

  it('reports the broker connection in /healthz and the backlog in /metrics', async () => {
    const queue = unique('ingest');
    const topic = unique('stock');
    const hub = await startHub(rabbit.url, {ingest: [{topic, queue}]});
    try {
      const health = (await (await fetch(`${hub.url}/healthz`)).json()) as Record<string, {connected: boolean; bindings: unknown}>;
      expect(health['status']).toBe('ok');
      expect(health['rabbitmq']).toMatchObject({connected: true, bindings: [{topic, queue}]});
      const text = await (await fetch(`${hub.url}/metrics`)).text();
      expect(text).toMatch(/switchboard_rabbitmq_connected 1/);
      expect(text).toMatch(new RegExp(`switchboard_rabbitmq_backlog\\{topic="${topic}"\\} 0`));
    } finally {
      await hub.close();
    }
  });

  it('fails start with a clear message for refused credentials, a closed port and a bad URL', async () => {
    const wrong = rabbit.url.replace('guest:guest', 'guest:nope');
    await expect(startHub(wrong, {})).rejects.toThrow(/Cannot connect to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+.*refused the credentials/);
    await expect(startHub('amqp://127.0.0.1:1', {})).rejects.toThrow(/Cannot connect to RabbitMQ at amqp:\/\/127\.0\.0\.1:1.*nothing accepts connections/);
    await expect(startHub('http://nowhere', {})).rejects.toThrow(/Cannot connect to RabbitMQ/);
    await expect(startHub(rabbit.url, {ingest: [{topic: 'no spaces'}]})).rejects.toThrow(/"no spaces" is not a topic name/);
    await expect(startHub(rabbit.url, {ingest: [{topic: 'a', queue: 'q'}, {topic: 'b', queue: 'q'}]})).rejects.toThrow(/Two ingest bindings consume the queue "q"/);
  });
});
