import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {startServer} from './helpers.js';
import {RawSocket, upgradeStatus} from './raw-socket.js';

const RS = '\u001e';
let server: SwitchboardServer | undefined;
const sockets: RawSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<{url: string; bystander: RawSocket}> {
  let url: string;
  ({server, url} = await startServer(options));
  // A healthy connection that must keep working whatever the others send.
  const bystander = await RawSocket.handshaken(url);
  sockets.push(bystander);
  return {url, bystander};
}

async function stillServes(bystander: RawSocket): Promise<void> {
  bystander.send(`{"type":1,"invocationId":"alive","target":"subscribe","arguments":["orders",null]}${RS}`);
  expect(await bystander.nextMessage(3)).toEqual({
    type: 3,
    invocationId: 'alive',
    result: {topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false},
  });
}

async function opened(url: string, handshake = true): Promise<RawSocket> {
  const socket = handshake ? await RawSocket.handshaken(url) : await RawSocket.open(url);
  sockets.push(socket);
  return socket;
}

describe('bad input on the hub: a clear error for the sender, nothing lost for anyone else', () => {
  it('refuses a first message that is not a handshake', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url, false);
    socket.send(`{"type":1,"target":"subscribe","arguments":[]}${RS}`);
    expect(JSON.parse((await socket.next()).replace(RS, ''))).toEqual({error: 'Handshake is missing "protocol".'});
    expect(await socket.closed).toBe(1000);
    await stillServes(bystander);
  });

  it('refuses garbage bytes as a handshake', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url, false);
    socket.send(Buffer.from([0xff, 0x00, 0x13, 0x1e]));
    expect(await socket.next()).toBe(`{"error":"Handshake is not valid JSON."}${RS}`);
    expect(await socket.closed).toBe(1000);
    await stillServes(bystander);
  });

  it('refuses an unknown protocol and an unsupported version by name', async () => {
    const {url, bystander} = await setup();
    const a = await opened(url, false);
    a.send(`{"protocol":"xml","version":1}${RS}`);
    expect(await a.next()).toBe(`{"error":"The protocol 'xml' is not supported."}${RS}`);
    const b = await opened(url, false);
    b.send(`{"protocol":"json","version":9}${RS}`);
    expect(await b.next()).toBe(`{"error":"The server does not support version 9 of the 'json' protocol."}${RS}`);
    await stillServes(bystander);
  });

  it('refuses a handshake without its record separator', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url, false);
    socket.send('{"protocol":"json","version":1}');
    expect(await socket.next()).toContain('Handshake is incomplete');
    await stillServes(bystander);
  });

  it('closes with an error on invalid JSON after the handshake', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url);
    socket.send(`{"type":1,${RS}`);
    expect(await socket.nextMessage(7)).toEqual({type: 7, error: 'Connection closed with an error. Message is not valid JSON.'});
    expect(await socket.closed).toBe(1000);
    await stillServes(bystander);
  });

  it('closes with an error on a record without its separator', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url);
    socket.send('{"type":6}');
    expect(await socket.nextMessage(7)).toMatchObject({error: expect.stringContaining('Message is incomplete')});
    await stillServes(bystander);
  });

  it('closes with an error on a message over the size limit', async () => {
    const {url, bystander} = await setup({hub: {maximumReceiveMessageSize: 1024}});
    const socket = await opened(url);
    socket.send(`{"type":1,"target":"publish","arguments":["orders","${'x'.repeat(2000)}"]}${RS}`);
    expect(await socket.nextMessage(7)).toEqual({type: 7, error: 'The maximum message size of 1024B was exceeded.'});
    await stillServes(bystander);
  });

  it('closes with an error on a malformed message', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url);
    socket.send(`{"type":1,"target":7,"arguments":[]}${RS}`);
    expect(await socket.nextMessage(7)).toMatchObject({error: expect.stringContaining('"target"')});
    await stillServes(bystander);
  });

  it('ignores an unknown message type and keeps the connection', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url);
    socket.send(`{"type":99,"future":true}${RS}`);
    await stillServes(socket);
    await stillServes(bystander);
  });

  it('answers an unknown method and wrong arguments with completion errors, connection kept', async () => {
    const {url, bystander} = await setup();
    const socket = await opened(url);
    socket.send(`{"type":1,"invocationId":"1","target":"launch","arguments":[]}${RS}`);
    expect(await socket.nextMessage(3)).toEqual({type: 3, invocationId: '1', error: "Unknown hub method 'launch'."});
    socket.send(`{"type":1,"invocationId":"2","target":"subscribe","arguments":[1,2,3]}${RS}`);
    expect(await socket.nextMessage(3)).toMatchObject({invocationId: '2', error: expect.stringContaining('takes 2 argument(s)')});
    socket.send(`{"type":1,"invocationId":"3","target":"subscribe","arguments":[["orders"],null]}${RS}`);
    expect(await socket.nextMessage(3)).toMatchObject({invocationId: '3', error: expect.stringContaining("Invalid argument 'topic'")});
    // Fire-and-forget failures get no answer at all.
    socket.send(`{"type":1,"target":"launch","arguments":[]}${RS}`);
    await stillServes(socket);
    await stillServes(bystander);
  });

  it('sends pings when idle and closes a client that goes silent', async () => {
    const {url} = await setup({hub: {keepAliveIntervalMs: 50, clientTimeoutMs: 400}});
    const socket = await opened(url);
    expect(await socket.nextMessage(6)).toEqual({type: 6});
    expect(await socket.nextMessage(7)).toEqual({
      type: 7,
      error: 'Server timeout elapsed without receiving a message from the client.',
    });
  });

  it('closes a connection that never sends its handshake', async () => {
    const {url} = await setup({hub: {handshakeTimeoutMs: 100}});
    const socket = await opened(url, false);
    expect(await socket.next()).toContain('Handshake was canceled');
    expect(await socket.closed).toBe(1000);
  });

  it('answers an upgrade with an unknown connection token with 404', async () => {
    const {url} = await setup();
    expect(await upgradeStatus(`${url}/hubs/events?id=unknown`)).toBe(404);
    expect(await upgradeStatus(`${url}/elsewhere`)).toBe(404);
  });
});
