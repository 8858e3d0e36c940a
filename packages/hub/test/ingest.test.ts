import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent, startServer, offsetAt} from './helpers.js';

/** Offset `n` of the running server's log. */
const at = (n: number): string => offsetAt(server!, n);

let server: SwitchboardServer | undefined;
let listener: signalR.HubConnection | undefined;

afterEach(async () => {
  await listener?.stop();
  await server?.close();
  server = listener = undefined;
});

/** A server with one subscriber on `orders` recording every event it is pushed. */
async function watched(options: Parameters<typeof startServer>[0] = {}): Promise<{url: string; pushed: unknown[]}> {
  let url: string;
  ({server, url} = await startServer(options));
  listener = client(url);
  const pushed: unknown[] = [];
  listener.on('event', (message: {event: {id: string}}) => pushed.push(message.event.id));
  await listener.start();
  await listener.invoke('subscribe', 'orders', null);
  return {url, pushed};
}

/** Posts a valid event and waits until the subscriber got it: everything before it was pushed or never will be. */
async function barrier(url: string): Promise<void> {
  const got = new Promise<void>((resolve) => listener!.on('event', (m: {event: {id: string}}) => m.event.id === 'barrier' && resolve()));
  await postEvent(url, 'orders', orderPlaced({id: 'barrier'}));
  await got;
}

describe('POST /api/topics/{topic}/events', () => {
  it('accepts a valid envelope with 202 and its offset', async () => {
    const {url, pushed} = await watched();
    const response = await postEvent(url, 'orders', orderPlaced({id: 'ok-1'}));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({offset: at(1)});
    await barrier(url);
    expect(pushed).toEqual(['ok-1', 'barrier']);
  });

  it('refuses an invalid envelope with 400 and every issue, and pushes nothing', async () => {
    const {url, pushed} = await watched();
    const response = await postEvent(url, 'orders', {type: 'order.placed', version: 0, data: {}});
    expect(response.status).toBe(400);
    const body = (await response.json()) as {error: string; issues: {path: string; message: string}[]};
    expect(body.error).toMatch(/^invalid envelope: /);
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['id', 'version', 'time', 'source', 'correlationId']));
    await barrier(url);
    expect(pushed).toEqual(['barrier']);
  });

  it('refuses data that breaks the contract with 400 naming the field', async () => {
    const {url, pushed} = await watched();
    const response = await postEvent(url, 'orders', orderPlaced({data: {orderId: 'o-1', sku: 'tea', quantity: 0}}));
    expect(response.status).toBe(400);
    const body = (await response.json()) as {error: string; issues: {path: string}[]};
    expect(body.error).toContain('invalid data for "order.placed" v1');
    expect(body.issues).toEqual([expect.objectContaining({path: 'data.quantity'})]);
    await barrier(url);
    expect(pushed).toEqual(['barrier']);
  });

  it('refuses an unknown event type with 400', async () => {
    const {url} = await watched();
    const response = await postEvent(url, 'orders', orderPlaced({type: 'order.teleported'}));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({error: 'unknown event type: type: "order.teleported" is not a registered contract'});
  });

  it('refuses a body that is not JSON with 400, and keeps serving', async () => {
    const {url, pushed} = await watched();
    const response = await postEvent(url, 'orders', '{"id": "truncated', 'application/json');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({error: 'body is not valid JSON', issues: []});
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await barrier(url);
    expect(pushed).toEqual(['barrier']);
  });

  it('refuses a body over the limit with 413 and a wrong media type with 415', async () => {
    const {url, pushed} = await watched({maxBodyBytes: 1024});
    const big = orderPlaced({source: 'x'.repeat(2000)});
    expect((await postEvent(url, 'orders', big)).status).toBe(413);
    expect((await postEvent(url, 'orders', JSON.stringify(orderPlaced()), 'text/plain')).status).toBe(415);
    await barrier(url);
    expect(pushed).toEqual(['barrier']);
  });

  it('refuses an invalid topic name with 400', async () => {
    const {url} = await watched();
    expect((await postEvent(url, '..bad', orderPlaced())).status).toBe(400);
  });

  it('stores one event per envelope id: a repeated POST returns the first offset', async () => {
    const {url, pushed} = await watched();
    const envelope = orderPlaced({id: 'twice'});
    expect(await (await postEvent(url, 'orders', envelope)).json()).toEqual({offset: at(1)});
    expect(await (await postEvent(url, 'orders', envelope)).json()).toEqual({offset: at(1)});
    await barrier(url);
    expect(pushed).toEqual(['twice', 'barrier']);
  });
});

describe('GET /api/topics/{topic}/events', () => {
  it('pages through retained events after an offset', async () => {
    const {url} = await watched();
    for (let i = 1; i <= 3; i++) await postEvent(url, 'orders', orderPlaced({id: `e${i}`}));
    const first = (await (await fetch(`${url}/api/topics/orders/events?limit=2`)).json()) as {
      events: {offset: string; event: {id: string}}[];
      next: string;
    };
    expect(first.events.map((e) => [e.offset, e.event.id])).toEqual([
      [at(1), 'e1'],
      [at(2), 'e2'],
    ]);
    const rest = (await (await fetch(`${url}/api/topics/orders/events?after=${first.next}`)).json()) as typeof first;
    expect(rest.events.map((e) => e.event.id)).toEqual(['e3']);
    expect((await fetch(`${url}/api/topics/orders/events?after=abc`)).status).toBe(400);
    expect((await fetch(`${url}/api/topics/orders/events?limit=0`)).status).toBe(400);
  });
});

describe('the rest of the HTTP surface', () => {
  it('answers /healthz and 404 for unknown paths', async () => {
    const {url} = await watched();
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({status: 'ok', connections: 1, transports: {WebSockets: 1}});
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('answers negotiate v0 without a token and v1 with a secret one, never a ProtocolVersion', async () => {
    const {url} = await watched();
    const v0 = (await (await fetch(`${url}/hubs/events/negotiate`, {method: 'POST'})).json()) as Record<string, unknown>;
    expect(v0).toMatchObject({negotiateVersion: 0});
    expect(v0['connectionToken']).toBeUndefined();
    const v1 = (await (await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as Record<string, unknown>;
    expect(v1).toMatchObject({negotiateVersion: 1, connectionToken: expect.any(String)});
    expect(v1['connectionToken']).not.toBe(v1['connectionId']);
    expect('ProtocolVersion' in v1 || 'useStatefulReconnect' in v1).toBe(false);
    expect((await fetch(`${url}/hubs/events/negotiate`)).status).toBe(405);
  });
});

describe('GET /api/connections/{id}', () => {
  it('says how a connection travels, and 404 for an unknown one', async () => {
    const {url} = await watched();
    const id = listener!.connectionId!;
    expect(await (await fetch(`${url}/api/connections/${id}`)).json()).toEqual({connectionId: id, transport: 'WebSockets', protocol: 'json'});
    expect((await fetch(`${url}/api/connections/nope`)).status).toBe(404);
  });
});

describe('failure drills', () => {
  it('are off unless enabled', async () => {
    const {url} = await watched();
    expect((await fetch(`${url}/api/connections/${listener!.connectionId}/drop`, {method: 'POST'})).status).toBe(404);
  });
});
