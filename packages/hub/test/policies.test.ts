import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {SERVER, type Appender, type SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const connections: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

function envelope(type: string, data: unknown, id = `evt-${Math.random().toString(36).slice(2)}`): Record<string, unknown> {
  return {id, type, version: 1, time: new Date().toISOString(), source: 'test', correlationId: 'flow-1', data};
}

const paymentFailed = () => envelope('payment.failed', {orderId: 'o-1', reason: 'forged'});

/** A server with the shop-like policies of these tests: orders are server-owned, pages may note carts. */
async function setup(): Promise<string> {
  let url: string;
  ({server, url} = await startServer({
    serverOwned: ['payment.*'],
    topics: {
      orders: {publish: [], serverOwned: ['order.*']},
      carts: {publish: ['cart.*']},
    },
  }));
  return url;
}

async function connect(url: string): Promise<signalR.HubConnection> {
  const connection = client(url);
  connections.push(connection);
  await connection.start();
  return connection;
}

describe('topic policies', () => {
  it('refuses a server-owned type over HTTP with 403 naming the rule, and appends nothing', async () => {
    const url = await setup();
    const response = await postEvent(url, 'carts', paymentFailed());
    expect(response.status).toBe(403);
    const body = (await response.json()) as {error: string};
    expect(body.error).toContain('"payment.failed" is server-owned (rule "payment.*")');
    expect(await server!.events.log.head('carts')).toBeNull();
    // A topic clients may publish nothing on is refused before its body is even read.
    const closed = await postEvent(url, 'orders', paymentFailed());
    expect(closed.status).toBe(403);
    expect(((await closed.json()) as {error: string}).error).toContain('no client may publish on topic "orders"');
  });

  it('refuses a server-owned type through the hub publish with an invocation error, and appends nothing', async () => {
    const url = await setup();
    const connection = await connect(url);
    await expect(connection.invoke('publish', 'orders', paymentFailed())).rejects.toThrow(/server-owned \(rule "payment\.\*"\)/);
    // Server-owned on every topic, not only where a topic policy says so.
    await expect(connection.invoke('publish', 'anywhere', paymentFailed())).rejects.toThrow(/server-owned/);
    expect(await server!.events.log.head('orders')).toBeNull();
    expect(await server!.events.log.head('anywhere')).toBeNull();
  });

  it('refuses types a topic does not let clients publish, and accepts those it does', async () => {
    const url = await setup();
    const connection = await connect(url);
    await expect(connection.invoke('publish', 'orders', orderPlaced())).rejects.toThrow(/server-owned \(rule "order\.\*"\)/);
    await expect(connection.invoke('publish', 'carts', orderPlaced())).rejects.toThrow(/"order\.placed" may not be published on topic "carts": policy "carts" lets clients publish "cart\.\*"/);
    expect(await connection.invoke('publish', 'carts', envelope('cart.noted', {note: 'gift wrap'}))).toEqual({offset: expect.any(String)});
  });

  it('refuses a command published as an event: commands go only through command', async () => {
    const url = await setup();
    const command = envelope('order.place', {sku: 'tea', quantity: 1});
    const response = await postEvent(url, 'carts', command);
    expect(response.status).toBe(403);
    expect(((await response.json()) as {error: string}).error).toContain('commands go only through `command`');
    const connection = await connect(url);
    await expect(connection.invoke('publish', 'carts', command)).rejects.toThrow(/"order\.place" is a command/);
    expect(await server!.events.log.head('carts')).toBeNull();
  });

  it('refuses a whole batch when one CloudEvent is refused', async () => {
    const url = await setup();
    const ce = (type: string, data: unknown) => ({specversion: '1.0', id: `ce-${Math.random()}`, source: 'urn:test', type, data});
    const response = await postEvent(url, 'carts', [ce('cart.noted', {note: 'a'}), ce('payment.failed', {orderId: 'o-1', reason: 'x'})], 'application/cloudevents-batch+json');
    expect(response.status).toBe(403);
    expect(await server!.events.log.head('carts')).toBeNull();
  });

  it('lets server code append server-owned types, and tells listeners who appended', async () => {
    const url = await setup();
    const seen: Array<{type: string; by: Appender}> = [];
    server!.events.onAppended((_topic, _offset, event, by) => seen.push({type: event.type, by}));
    expect((await server!.events.append('orders', paymentFailed())).ok).toBe(true);
    expect((await postEvent(url, 'carts', envelope('cart.noted', {note: 'x'}))).status).toBe(202);
    const connection = await connect(url);
    await connection.invoke('publish', 'carts', envelope('cart.noted', {note: 'y'}));
    expect(seen).toEqual([
      {type: 'payment.failed', by: SERVER},
      {type: 'cart.noted', by: {kind: 'client', via: 'http', principal: undefined, remoteAddress: '127.0.0.1'}},
      {type: 'cart.noted', by: {kind: 'client', via: 'hub', principal: undefined, remoteAddress: '127.0.0.1'}},
    ]);
  });

  it('keeps the unknownTypes policy: accepted where a topic says so, and still refused for server-owned globs', async () => {
    ({server} = await startServer({serverOwned: ['audit.*'], topics: {raw: {unknownTypes: 'accept'}}}));
    const url = `http://127.0.0.1:${server.port}`;
    expect((await postEvent(url, 'raw', envelope('anything.else', {x: 1}))).status).toBe(202);
    expect((await postEvent(url, 'other', envelope('anything.else', {x: 1}))).status).toBe(400);
    expect((await postEvent(url, 'raw', envelope('audit.entry', {x: 1}))).status).toBe(403);
  });

  it('refuses subscribing and reading history where the policy says nobody may', async () => {
    ({server} = await startServer({topics: {'internal.*': {subscribe: 'nobody'}}}));
    const url = `http://127.0.0.1:${server.port}`;
    server.events.append('internal.audit', orderPlaced());
    const connection = await connect(url);
    await expect(connection.invoke('subscribe', 'internal.audit', null)).rejects.toThrow(/no client may subscribe to topic "internal\.audit" \(policy "internal\.\*"\)/);
    expect((await fetch(`${url}/api/topics/internal.audit/events`)).status).toBe(403);
    expect((await fetch(`${url}/api/topics/public/events`)).status).toBe(200);
  });
});
