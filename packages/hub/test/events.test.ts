import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {HubError, MemoryTopicLog, type SwitchboardServer} from '../src/index.js';
import {PlaceOrder} from './fixtures.js';
import {client, orderPlaced, startServer, offsetAt} from './helpers.js';

/** Offset `n` of the running server's log. */
const at = (n: number): string => offsetAt(server!, n);

let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer(options));
  return url;
}

async function connect(url: string): Promise<signalR.HubConnection> {
  const c = client(url);
  opened.push(c);
  await c.start();
  return c;
}

const cloudEvent = (overrides: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: `ce-${Math.random().toString(36).slice(2)}`,
  source: 'urn:warehouse',
  type: 'order.placed',
  datacontenttype: 'application/json',
  data: {orderId: 'o-ce', sku: 'tea-sencha', quantity: 1},
  ...overrides,
});

const post = (url: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${url}/api/topics/orders/events`, {method: 'POST', headers, body: JSON.stringify(body)});

const retained = async (url: string) =>
  ((await (await fetch(`${url}/api/topics/orders/events`)).json()) as {events: {event: Record<string, unknown>}[]}).events.map((e) => e.event);

describe('CloudEvents ingest', () => {
  it('takes a structured CloudEvent, mapping its attributes and extensions to the envelope', async () => {
    const url = await setup();
    const ce = cloudEvent({dataversion: 1, correlationid: 'flow-7', causationid: 'cause-1', time: '2026-11-23T10:00:00Z'});
    const response = await post(url, ce, {'content-type': 'application/cloudevents+json; charset=utf-8'});
    expect(response.status).toBe(202);
    expect(await retained(url)).toEqual([
      {id: ce.id, type: 'order.placed', version: 1, time: '2026-11-23T10:00:00Z', source: 'urn:warehouse', correlationId: 'flow-7', causationId: 'cause-1', data: ce.data},
    ]);
  });

  it('takes a binary-mode CloudEvent: attributes in ce-* headers, data in the body', async () => {
    const url = await setup();
    const response = await post(url, {orderId: 'o-bin', sku: 'tea-assam', quantity: 2}, {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': 'urn:pos',
      'ce-type': 'order.placed',
    });
    expect(response.status).toBe(202);
    expect(await retained(url)).toEqual([expect.objectContaining({id: 'bin-1', source: 'urn:pos', correlationId: 'bin-1', version: 1, data: {orderId: 'o-bin', sku: 'tea-assam', quantity: 2}})]);
  });

  it('takes a batch all or nothing: one bad event refuses the batch and names it by index', async () => {
    const url = await setup();
    const good = [cloudEvent({id: 'b1'}), cloudEvent({id: 'b2'})];
    const bad = [cloudEvent({id: 'b3'}), cloudEvent({id: 'b4', data: {orderId: 'o', sku: 's', quantity: -1}}), cloudEvent({id: 'b5', specversion: '0.3'})];
    const refused = await post(url, bad, {'content-type': 'application/cloudevents-batch+json'});
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as {issues: {path: string}[]}).issues.map((i) => i.path)).toEqual(['2.specversion']);
    const refused2 = await post(url, bad.slice(0, 2), {'content-type': 'application/cloudevents-batch+json'});
    expect(((await refused2.json()) as {issues: {path: string}[]}).issues.map((i) => i.path)).toEqual(['1.data.quantity']);
    expect(await retained(url)).toEqual([]);
    const accepted = await post(url, good, {'content-type': 'application/cloudevents-batch+json'});
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({offsets: [at(1), at(2)]});
  });

  it.each([
    ['a wrong specversion', {specversion: '0.3'}, 'specversion'],
    ['a missing source', {source: undefined}, 'source'],
    ['non-JSON data', {datacontenttype: 'text/plain'}, 'datacontenttype'],
    ['base64 data', {data_base64: 'AAAA'}, 'data_base64'],
    ['a bad dataversion', {dataversion: 'two'}, 'dataversion'],
    ['data that breaks the contract', {data: {orderId: 'o'}}, 'data.sku'],
  ])('refuses %s with 400 and stores nothing', async (_name, overrides, path) => {
    const url = await setup();
    const response = await post(url, cloudEvent(overrides), {'content-type': 'application/cloudevents+json'});
    expect(response.status).toBe(400);
    expect(((await response.json()) as {issues: {path: string}[]}).issues.map((i) => i.path)).toContain(path);
    expect(await retained(url)).toEqual([]);
  });

  it('refuses a batch that is not an array', async () => {
    const url = await setup();
    expect((await post(url, cloudEvent(), {'content-type': 'application/cloudevents-batch+json'})).status).toBe(400);
  });
});

describe('topic policies', () => {
  it('accepts unknown types only where the topic says so, still checking the envelope', async () => {
    const url = await setup({topics: {audit: {unknownTypes: 'accept'}}});
    const unknown = orderPlaced({type: 'audit.login', data: {user: 'ada'}});
    const at = (topic: string, body: unknown) => fetch(`${url}/api/topics/${topic}/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
    expect((await at('orders', unknown)).status).toBe(400);
    expect((await at('audit', unknown)).status).toBe(202);
    expect((await at('audit', {...unknown, id: undefined})).status).toBe(400);
    // A known type is still held to its contract on such a topic.
    expect((await at('audit', orderPlaced({data: {}}))).status).toBe(400);
  });

  it('keeps per-topic retention and reports truncation to a subscriber that fell behind', async () => {
    const url = await setup({log: new MemoryTopicLog({topics: {orders: {maxEvents: 3}}})});
    for (let i = 1; i <= 5; i++) await post(url, orderPlaced({id: `e${i}`}), {'content-type': 'application/json'});
    expect((await retained(url)).map((e) => e['id'])).toEqual(['e3', 'e4', 'e5']);
    const c = await connect(url);
    const got: string[] = [];
    c.on('event', (m: {event: {id: string}}) => got.push(m.event.id));
    expect(await c.invoke('subscribe', 'orders', at(1))).toEqual({topic: 'orders', offset: at(5), truncated: true});
    expect(await c.invoke('subscribe', 'orders', at(2))).toEqual({topic: 'orders', offset: at(5), truncated: false});
    expect(got).toEqual(['e3', 'e4', 'e5', 'e3', 'e4', 'e5']);
  });
});

describe('commands over the hub', () => {
  const command = (data: unknown, type = 'order.place') => ({id: `c-${Math.random()}`, type, version: 1, time: new Date().toISOString(), source: 'mfe:form', correlationId: 'flow', data});

  it('runs the one handler and answers with its result; a rejection is an invocation error', async () => {
    const url = await setup();
    server!.events.handle(PlaceOrder, (e) => {
      if (e.data.sku === 'sold-out') throw new HubError('Out of stock: sold-out.');
      return {accepted: true, orderId: `o-${e.data.sku}`};
    });
    expect(() => server!.events.handle(PlaceOrder, () => null)).toThrow('already has a handler');
    const c = await connect(url);
    expect(await c.invoke('command', command({sku: 'tea', quantity: 1}))).toEqual({accepted: true, orderId: 'o-tea'});
    await expect(c.invoke('command', command({sku: 'sold-out', quantity: 1}))).rejects.toThrow('Out of stock: sold-out.');
    await expect(c.invoke('command', command({sku: 'tea', quantity: 0}))).rejects.toThrow('invalid data for "order.place" v1');
    await expect(c.invoke('command', command({orderId: 'o', sku: 's', quantity: 1}, 'order.placed'))).rejects.toThrow('is not a command');
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
  });

  it('says when a command has no handler', async () => {
    const url = await setup();
    const c = await connect(url);
    await expect(c.invoke('command', command({sku: 'tea', quantity: 1}))).rejects.toThrow('No handler for command "order.place".');
  });
});

describe('GET /metrics', () => {
  it('exposes connections by transport, events in and out, rejections, replays and retention', async () => {
    const url = await setup();
    const c = await connect(url);
    await c.invoke('subscribe', 'orders', null);
    await post(url, orderPlaced(), {'content-type': 'application/json'});
    await post(url, {bad: true}, {'content-type': 'application/json'});
    await c.invoke('subscribe', 'orders', at(0));
    await expect(c.invoke('nope')).rejects.toThrow();
    await expect(c.invoke('publish', 'orders', {})).rejects.toThrow();
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('switchboard_connections{transport="WebSockets"} 1');
    expect(text).toContain('switchboard_events_in_total{topic="orders",type="order.placed"} 1');
    expect(text).toContain('switchboard_events_out_total{topic="orders"} 1');
    expect(text).toContain('switchboard_events_rejected_total{topic="orders"} 2');
    expect(text).toContain('switchboard_replay_events_count{topic="orders"} 1');
    expect(text).toContain('switchboard_log_retained_events{topic="orders"} 1');
    expect(text).toContain('switchboard_invocation_errors_total{method="publish"} 1');
    expect(text).toContain('switchboard_process_resident_memory_bytes');
  });
});

describe('idempotent publish across entry points', () => {
  it('keeps one event when the same envelope comes through the hub and over HTTP', async () => {
    const url = await setup();
    const c = await connect(url);
    const envelope = orderPlaced({id: 'same-everywhere'});
    expect(await c.invoke('publish', 'orders', envelope)).toEqual({offset: at(1)});
    const again = await post(url, envelope, {'content-type': 'application/json'});
    expect(await again.json()).toEqual({offset: at(1)});
    expect((await retained(url)).map((e) => e['id'])).toEqual(['same-everywhere']);
  });
});
