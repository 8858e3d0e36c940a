import type * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, startServer} from './helpers.js';
import {RawSocket} from './raw-socket.js';

const RS = '\u001e';
let server: SwitchboardServer | undefined;
const open: Array<{close(): unknown}> = [];

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({topics: {blobs: {unknownTypes: 'accept'}}, ...options}));
  return url;
}

async function connect(url: string): Promise<signalR.HubConnection> {
  const c = client(url);
  open.push({close: () => c.stop()});
  await c.start();
  return c;
}

async function raw(url: string): Promise<RawSocket> {
  const socket = await RawSocket.handshaken(url);
  open.push(socket);
  return socket;
}

const blob = (bytes: number, id = `b-${Math.random().toString(36).slice(2)}`) => orderPlaced({id, type: 'blob.put', data: {blob: 'x'.repeat(bytes)}});

describe('maximumReceiveMessageSize applies to each hub message, as in ASP.NET', () => {
  it('40 concurrent publish invocations of ~1.2 KB from the official client (one coalesced frame) all succeed', async () => {
    const url = await setup();
    const c = await connect(url);
    const results = await Promise.all(Array.from({length: 40}, (_, i) => c.invoke('publish', 'blobs', blob(1200, `b-${i}`))));
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r: {offset: string}) => r.offset)).size).toBe(40);
    expect((await server!.events.log.read('blobs', null, 100)).entries).toHaveLength(40);
    expect(c.state).toBe('Connected');
  });

  it('many small records in one frame are fine; one record over the limit in that frame closes with the limit named', async () => {
    const url = await setup({hub: {maximumReceiveMessageSize: 1024}});
    const socket = await raw(url);
    const small = (id: string) => `{"type":1,"invocationId":"${id}","target":"publish","arguments":["blobs",${JSON.stringify(blob(300, id))}]}${RS}`;
    socket.send(Array.from({length: 10}, (_, i) => small(`s${i}`)).join(''));
    for (let i = 0; i < 10; i++) expect(await socket.nextMessage(3)).toMatchObject({invocationId: `s${i}`, result: {offset: expect.any(String)}});
    socket.send(small('ok') + `{"type":1,"invocationId":"big","target":"publish","arguments":["blobs",${JSON.stringify(blob(2000, 'big'))}]}${RS}`);
    expect(await socket.nextMessage(7)).toEqual({type: 7, error: 'The maximum message size of 1024B was exceeded.'});
    expect(await socket.closed).toBe(1000);
  });

  it('a handshake over the limit is refused', async () => {
    const url = await setup({hub: {maximumReceiveMessageSize: 256}});
    const socket = await RawSocket.open(url);
    open.push(socket);
    socket.send(`{"protocol":"json","version":1,"padding":"${'x'.repeat(500)}"}${RS}`);
    expect(JSON.parse((await socket.next()).replace(RS, ''))).toEqual({error: 'The maximum message size of 256B was exceeded.'});
  });

  it('a whole transport message over maxTransportMessageSize is cut off by the transport (close 1009); others keep working', async () => {
    const url = await setup({endpoint: {maxTransportMessageSize: 64 * 1024}});
    const bystander = await connect(url);
    const socket = await raw(url);
    const record = `{"type":6}${RS}`;
    socket.send(record.repeat(Math.ceil((64 * 1024 + 1) / record.length)));
    expect(await socket.closed).toBe(1009);
    expect(await bystander.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
  });
});
