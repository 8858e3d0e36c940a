import {request as httpRequest} from 'node:http';
import {encode} from '@msgpack/msgpack';
import {afterEach, describe, expect, it} from 'vitest';
import {messagePackHubProtocol, MessageType, writeLengthPrefixed, type SwitchboardServer} from '../src/index.js';
import {startServer} from './helpers.js';
import WebSocket from 'ws';

const RS = '\u001e';
let server: SwitchboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer(options));
  return `${url}/hubs/events`;
}

async function negotiate(hub: string, query = 'negotiateVersion=1'): Promise<{connectionId: string; connectionToken: string} & Record<string, unknown>> {
  const response = await fetch(`${hub}/negotiate?${query}`, {method: 'POST'});
  expect(response.status).toBe(200);
  return (await response.json()) as {connectionId: string; connectionToken: string};
}

const post = (hub: string, token: string | null, body: string | Uint8Array) =>
  fetch(token === null ? hub : `${hub}?id=${token}`, {method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body)});

describe('negotiate', () => {
  it('offers every transport with its transfer formats, and stateful reconnect only when asked', async () => {
    const hub = await setup();
    const plain = await negotiate(hub);
    expect(plain['availableTransports']).toEqual([
      {transport: 'WebSockets', transferFormats: ['Text', 'Binary']},
      {transport: 'ServerSentEvents', transferFormats: ['Text']},
      {transport: 'LongPolling', transferFormats: ['Text', 'Binary']},
    ]);
    expect('useStatefulReconnect' in plain).toBe(false);
    expect((await negotiate(hub, 'negotiateVersion=1&useStatefulReconnect=true'))['useStatefulReconnect']).toBe(true);
  });
});

describe('the POST send path', () => {
  it('answers 400 without an id, 404 for an unknown one, 409 before a transport started', async () => {
    const hub = await setup();
    expect((await post(hub, null, 'x')).status).toBe(400);
    expect((await post(hub, 'nope', 'x')).status).toBe(404);
    const {connectionToken} = await negotiate(hub);
    expect((await post(hub, connectionToken, 'x')).status).toBe(409);
  });

  it('answers 405 for a connection that uses WebSockets', async () => {
    const hub = await setup();
    const {connectionToken} = await negotiate(hub);
    const ws = new WebSocket(`${hub.replace('http', 'ws')}?id=${connectionToken}`);
    await new Promise((resolve) => ws.once('open', resolve));
    expect((await post(hub, connectionToken, 'x')).status).toBe(405);
    ws.close();
  });

  it('answers 409 to a second POST while one is being read', async () => {
    const hub = await setup();
    const {connectionToken} = await negotiate(hub);
    expect((await fetch(`${hub}?id=${connectionToken}`)).status).toBe(200); // first poll: long polling claims it
    const slow = httpRequest(`${hub}?id=${connectionToken}`, {method: 'POST', headers: {'content-length': '100'}});
    const slowDone = new Promise<number>((resolve) => slow.on('response', (r) => resolve(r.statusCode ?? 0)));
    // Once the first bytes are on the socket (after the lookup and connect, slow on a busy machine),
    // the server in this process reads them before this timer fires.
    await new Promise<void>((resolve) => slow.write('{"protocol":"json",', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    expect((await post(hub, connectionToken, 'x')).status).toBe(409);
    slow.end(`"version":1}${RS}`.padEnd(100 - '{"protocol":"json",'.length, ' '));
    expect(await slowDone).toBe(200);
  });
});

describe('long polling', () => {
  it('answers the first poll at once, delivers queued messages, and lets a newer poll replace an older one', async () => {
    const hub = await setup({endpoint: {longPolling: {pollTimeoutMs: 5000}}});
    const {connectionToken} = await negotiate(hub);
    const poll = () => fetch(`${hub}?id=${connectionToken}&_=${Date.now()}`);
    const first = await poll();
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('');
    expect((await post(hub, connectionToken, `{"protocol":"json","version":1}${RS}`)).status).toBe(200);
    const handshake = await poll();
    expect(await handshake.text()).toBe(`{}${RS}`);

    const waiting = poll();
    await new Promise((r) => setTimeout(r, 50));
    const newer = poll();
    expect((await waiting).status).toBe(204);
    await post(hub, connectionToken, `{"type":1,"invocationId":"1","target":"subscribe","arguments":["orders",null]}${RS}`);
    const answer = await newer;
    expect(answer.status).toBe(200);
    expect(JSON.parse((await answer.text()).split(RS)[0]!)).toEqual({type: 3, invocationId: '1', result: {topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false}});
  });

  it('ends a poll with 200 and no body at the poll timeout', async () => {
    const hub = await setup({endpoint: {longPolling: {pollTimeoutMs: 100}}});
    const {connectionToken} = await negotiate(hub);
    await fetch(`${hub}?id=${connectionToken}`);
    const timedOut = await fetch(`${hub}?id=${connectionToken}`);
    expect(timedOut.status).toBe(200);
    expect(await timedOut.text()).toBe('');
  });

  it('ends the connection on DELETE: 202, the pending poll gets 204, the token is gone', async () => {
    const hub = await setup();
    const {connectionToken} = await negotiate(hub);
    await fetch(`${hub}?id=${connectionToken}`);
    const pending = fetch(`${hub}?id=${connectionToken}`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${hub}?id=${connectionToken}`, {method: 'DELETE'})).status).toBe(202);
    expect((await pending).status).toBe(204);
    expect((await fetch(`${hub}?id=${connectionToken}`)).status).toBe(404);
    expect((await fetch(`${hub}?id=${connectionToken}`, {method: 'DELETE'})).status).toBe(404);
  });

  it('drops a connection whose client stopped polling', async () => {
    const hub = await setup({endpoint: {longPolling: {disconnectTimeoutMs: 100}}});
    const {connectionToken} = await negotiate(hub);
    await fetch(`${hub}?id=${connectionToken}`);
    await post(hub, connectionToken, `{"protocol":"json","version":1}${RS}`);
    expect(server!.hub.connectionCount).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(server!.hub.connectionCount).toBe(0);
    expect((await fetch(`${hub}?id=${connectionToken}`)).status).toBe(404);
  });
});

describe('server-sent events', () => {
  it('opens an event stream with a comment at once, and refuses a second stream with 409', async () => {
    const hub = await setup();
    const {connectionToken} = await negotiate(hub);
    const abort = new AbortController();
    const stream = await fetch(`${hub}?id=${connectionToken}`, {headers: {accept: 'text/event-stream'}, signal: abort.signal});
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(':\r\n');
    expect((await fetch(`${hub}?id=${connectionToken}`, {headers: {accept: 'text/event-stream'}})).status).toBe(409);
    await post(hub, connectionToken, `{"protocol":"json","version":1}${RS}`);
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(`data: {}${RS}\r\n\r\n`);
    abort.abort();
  });

  it('refuses the binary MessagePack protocol over SSE with a clear handshake error', async () => {
    const hub = await setup();
    const {connectionToken} = await negotiate(hub);
    const abort = new AbortController();
    const stream = await fetch(`${hub}?id=${connectionToken}`, {headers: {accept: 'text/event-stream'}, signal: abort.signal});
    const reader = stream.body!.getReader();
    await reader.read();
    await post(hub, connectionToken, `{"protocol":"messagepack","version":1}${RS}`);
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('cannot travel over ServerSentEvents');
    abort.abort();
  });
});

describe('MessagePack over a raw WebSocket', () => {
  async function msgpackSocket(hub: string): Promise<{ws: WebSocket; frames: Buffer[]; closed: Promise<void>}> {
    const ws = new WebSocket(hub.replace('http', 'ws'));
    const frames: Buffer[] = [];
    ws.on('message', (data) => frames.push(data as Buffer));
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(`{"protocol":"messagepack","version":1}${RS}`);
    while (frames.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(frames.shift()!.toString()).toBe(`{}${RS}`);
    return {ws, frames, closed};
  }

  function closeMessage(frames: Buffer[]): unknown {
    const parsed = frames.flatMap((f) => messagePackHubProtocol.parseMessages(new Uint8Array(f)));
    return parsed.find((m) => m.type === MessageType.Close);
  }

  it('answers an invocation in MessagePack', async () => {
    const hub = await setup();
    const {ws, frames} = await msgpackSocket(hub);
    ws.send(writeLengthPrefixed(encode([1, {}, '7', 'subscribe', ['orders', null]])));
    while (frames.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(messagePackHubProtocol.parseMessages(new Uint8Array(frames[0]!))).toEqual([
      {type: 3, invocationId: '7', result: {topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false}},
    ]);
    ws.close();
  });

  it('closes with an error on a truncated frame', async () => {
    const hub = await setup();
    const {ws, frames, closed} = await msgpackSocket(hub);
    ws.send(Buffer.from([20, 0x95, 1]));
    await closed;
    expect(closeMessage(frames)).toEqual({type: 7, error: expect.stringContaining('shorter than its length prefix')});
  });

  it('closes with an error on a frame over the size limit', async () => {
    const hub = await setup({hub: {maximumReceiveMessageSize: 256}});
    const {ws, frames, closed} = await msgpackSocket(hub);
    ws.send(writeLengthPrefixed(encode([1, {}, '1', 'publish', ['orders', 'x'.repeat(500)]])));
    await closed;
    expect(closeMessage(frames)).toEqual({type: 7, error: 'The maximum message size of 256B was exceeded.'});
  });
});
