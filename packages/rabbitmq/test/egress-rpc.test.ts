import {randomUUID} from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import amqp, {type Channel, type ChannelModel} from 'amqplib';
import {MemoryTopicLog} from '@switchboard/hub';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {EGRESS_HEADERS, RPC_ERROR_HEADER, RPC_USER_HEADER} from '../src/index.js';
import {ReserveStock, startHub, stockChanged, unique, until} from './fixtures.js';
import {startRabbit, type RabbitServer} from './rabbitmq-server.js';

let rabbit: RabbitServer;
let service: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  rabbit = await startRabbit();
  service = await amqp.connect(rabbit.url);
  channel = await service.createChannel();
}, 180_000);

afterAll(async () => {
  await service?.close().catch(() => {});
  await rabbit?.stop();
});

/** A queue bound to `exchange` with `#`, recording what arrives (acknowledged). */
async function listen(exchange: string): Promise<amqp.ConsumeMessage[]> {
  const got: amqp.ConsumeMessage[] = [];
  await channel.assertExchange(exchange, 'topic', {durable: true});
  const {queue} = await channel.assertQueue('', {exclusive: true});
  await channel.bindQueue(queue, exchange, '#');
  await channel.consume(queue, (m) => {
    if (m === null) return;
    got.push(m);
    channel.ack(m);
  });
  return got;
}

function page(url: string): signalR.HubConnection {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets})
    .configureLogging(signalR.LogLevel.None)
    .build();
}

function reserve(quantity: number): Record<string, unknown> {
  const id = randomUUID();
  return {id, type: 'stock.reserve', version: 1, time: new Date().toISOString(), source: 'mfe:cart', correlationId: id, data: {sku: 'tea', quantity}};
}

describe('egress: topic → exchange with publisher confirms', () => {
  it('publishes in log order with the envelope id and offset, and resumes after a restart from the offset kept in the broker', async () => {
    const exchange = unique('events');
    const topic = unique('stock');
    const got = await listen(exchange);
    const log = new MemoryTopicLog();
    let hub = await startHub(rabbit.url, {egress: [{topics: [topic], exchange}]}, {log});
    for (let i = 0; i < 3; i++) await hub.server.events.append(topic, stockChanged(i));
    await until(() => got.length === 3, 20_000, 'three events egressed');
    const stored = await hub.server.events.log.read(topic, null, 10);
    expect(got.map((m) => m.properties.messageId)).toEqual(stored.entries.map((e) => e.event.id));
    expect(got.map((m) => m.properties.headers?.[EGRESS_HEADERS.offset])).toEqual(stored.entries.map((e) => e.offset));
    expect(got[0]!.fields.routingKey).toBe('stock.changed');
    expect(got[0]!.properties.headers?.[EGRESS_HEADERS.topic]).toBe(topic);
    expect(JSON.parse(got[1]!.content.toString())).toEqual(stored.entries[1]!.event);
    await until(async () => /switchboard_rabbitmq_egressed_total\{topic="[^"]+"\} 3/.test(await hub.server.metrics.registry.metrics()), 5000, 'metrics');
    await hub.close();
    // Appended while no hub published: the next one starts after the last confirmed offset.
    const offline = [stockChanged(10), stockChanged(11)];
    for (const e of offline) log.append(topic, e);
    hub = await startHub(rabbit.url, {egress: [{topics: [topic], exchange}]}, {log});
    try {
      await until(() => got.length >= 5, 20_000, 'the two offline events egressed');
      await new Promise((r) => setTimeout(r, 300));
      expect(got.map((m) => m.properties.messageId)).toEqual([...stored.entries.map((e) => e.event.id), ...offline.map((e) => e['id'])]);
    } finally {
      await hub.close();
    }
  });

  it('lets one hub node publish at a time; the other takes over when it leaves', async () => {
    const exchange = unique('events');
    const topic = unique('stock');
    const got = await listen(exchange);
    const log = new MemoryTopicLog(); // both nodes read one log, as two nodes on one Redis do
    const a = await startHub(rabbit.url, {egress: [{topics: [topic], exchange}]}, {log});
    const b = await startHub(rabbit.url, {egress: [{topics: [topic], exchange}]}, {log});
    try {
      const leaders = async () => {
        const h = await Promise.all([a, b].map(async (n) => ((await (await fetch(`${n.url}/healthz`)).json()) as {rabbitmq: {egressLeader: boolean}}).rabbitmq.egressLeader));
        return h.filter(Boolean).length;
      };
      await until(async () => (await leaders()) === 1, 10_000, 'one leader');
      for (let i = 0; i < 4; i++) await a.server.events.append(topic, stockChanged(i));
      await until(() => got.length >= 4, 20_000, 'four egressed');
      await a.close();
      for (let i = 0; i < 2; i++) log.append(topic, stockChanged(10 + i));
      await until(() => got.length >= 6, 20_000, 'b took over');
      await new Promise((r) => setTimeout(r, 300));
      const ids = got.map((m) => m.properties.messageId as string);
      expect(new Set(ids).size).toBe(6);
      expect(ids).toEqual(log.read(topic, null, 10).entries.map((e) => e.event.id));
    } finally {
      await a.close().catch(() => {});
      await b.close();
    }
  });
});

describe('commands as RPC: page → hub → service queue → reply', () => {
  it('answers a page\'s command through the service, passes the service\'s refusal, and times out clearly', async () => {
    const queue = unique('inventory-rpc');
    await channel.assertQueue(queue, {durable: false, autoDelete: true});
    const seen: amqp.ConsumeMessage[] = [];
    await channel.consume(queue, (m) => {
      if (m === null) return;
      seen.push(m);
      const command = JSON.parse(m.content.toString()) as {data: {quantity: number}};
      const refused = command.data.quantity > 10;
      channel.sendToQueue(m.properties.replyTo as string, Buffer.from(refused ? '' : JSON.stringify({reserved: command.data.quantity})), {
        correlationId: m.properties.correlationId,
        contentType: 'application/json',
        ...(refused ? {headers: {[RPC_ERROR_HEADER]: 'Only 10 left.'}} : {}),
      });
      channel.ack(m);
    });
    const silent = unique('silent');
    await channel.assertQueue(silent, {durable: false, autoDelete: true});
    const hub = await startHub(rabbit.url, {commands: [{contract: ReserveStock, routingKey: queue, timeoutMs: 1500}]});
    const browser = page(hub.url);
    try {
      await browser.start();
      const command = reserve(2);
      expect(await browser.invoke('command', command)).toEqual({reserved: 2});
      expect(seen[0]!.properties.messageId).toBe(command['id']);
      expect(JSON.parse(seen[0]!.content.toString())).toEqual(command);
      expect(seen[0]!.properties.headers?.[RPC_USER_HEADER]).toBeUndefined();
      await expect(browser.invoke('command', reserve(50))).rejects.toThrow(/Only 10 left\./);
      await expect(browser.invoke('command', {...reserve(1), data: {sku: ''}})).rejects.toThrow(/invalid/i);
      expect(seen).toHaveLength(2); // the invalid command never left the hub
    } finally {
      await browser.stop();
      await hub.close();
    }
    const quiet = await startHub(rabbit.url, {commands: [{contract: ReserveStock, routingKey: silent, timeoutMs: 3000}], maxPendingCommands: 1});
    const other = page(quiet.url);
    try {
      await other.start();
      const waiting = other.invoke('command', reserve(1));
      // One command waits for its answer: the limit (maxPendingCommands) refuses the next, from
      // another page (one connection's invocations run one after another), at once.
      const second = page(quiet.url);
      await second.start();
      await until(async () => /"pendingCommands":1/.test(await (await fetch(`${quiet.url}/healthz`)).text()), 5000, 'one command pending');
      await expect(second.invoke('command', reserve(1))).rejects.toThrow(/Too many commands are waiting for services \(1, option maxPendingCommands\)/);
      await expect(waiting).rejects.toThrow(/No service answered "stock\.reserve" within 3000 ms/);
      await second.stop();
      await channel.deleteQueue(silent);
      await expect(other.invoke('command', reserve(1))).rejects.toThrow(/No service receives "stock\.reserve"/);
      const text = await quiet.server.metrics.registry.metrics();
      expect(text).toMatch(/switchboard_rabbitmq_commands_total\{type="stock.reserve",outcome="timeout"\} 1/);
      expect(text).toMatch(/switchboard_rabbitmq_commands_total\{type="stock.reserve",outcome="unroutable"\} 1/);
      expect(text).toMatch(/switchboard_rabbitmq_commands_total\{type="stock.reserve",outcome="unavailable"\} 1/);
    } finally {
      await other.stop();
      await quiet.close();
    }
  });
});
