import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {Hub, type HubOptions, type SwitchboardServer} from '../../src/index.js';
import type {ConnectionSink, TransportConnection} from '../../src/transports/transport-connection.js';
import {startServer} from '../helpers.js';
import {openEventStream} from '../raw-socket.js';

const RS = '\u001e';

/** A transport that records what the hub sends and whether it closed; it never pauses by itself. */
function fakeTransport(): TransportConnection & {readonly sent: string[]; readonly closed: () => boolean} {
  const sent: string[] = [];
  let closed = false;
  return {
    connectionId: 'c1',
    transport: 'WebSockets',
    request: {url: new URL('http://localhost/hubs/events'), headers: {}, remoteAddress: undefined, principal: undefined},
    inherentKeepAlive: false,
    supportsReconnect: false,
    enableReconnect: () => {},
    send: (payload) => void sent.push(Buffer.from(payload).toString()),
    close: () => void (closed = true),
    abort: () => void (closed = true),
    sent,
    closed: () => closed,
  };
}

/** A hub whose `block` method holds the caller's only invocation slot until `release()`. */
function blockingHub(options: HubOptions): {hub: Hub; sink: ConnectionSink; transport: ReturnType<typeof fakeTransport>; release: () => void} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hub = new Hub({logger: pino({level: 'silent'}), ...options});
  hub.method('block', {params: {}, handler: () => gate.then(() => 'released')});
  hub.method('note', {params: {text: z.string()}, handler: ({text}) => text.length});
  const transport = fakeTransport();
  const sink = hub.connect(transport);
  sink.receive(`{"protocol":"json","version":1}${RS}`);
  expect(sink.receive(`{"type":1,"invocationId":"b","target":"block","arguments":[]}${RS}`)).toBeUndefined();
  return {hub, sink, transport, release};
}

/** A frame of `n` note invocations of `bytes` characters each. */
function notes(n: number, bytes: number, first = 0): string {
  let frame = '';
  for (let i = 0; i < n; i++) frame += `{"type":1,"invocationId":"n${first + i}","target":"note","arguments":["${'z'.repeat(bytes)}"]}${RS}`;
  return frame;
}

let server: SwitchboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('hostile: the receive queue of one connection is bounded', () => {
  it('asks the transport to stop reading once invocations waiting for the slot pass pauseBytes, and to read on once they ran', async () => {
    const {hub, sink, transport, release} = blockingHub({receiveQueue: {pauseBytes: 4096}});
    const ready = sink.receive(notes(8, 1000));
    expect(ready).toBeInstanceOf(Promise);
    expect(hub.receivePausedConnections).toBe(1);
    release();
    await ready;
    expect(hub.receivePausedConnections).toBe(0);
    await expect.poll(() => transport.sent.filter((s) => s.includes('"invocationId":"n')).length).toBe(8);
    expect(transport.closed()).toBe(false);
    hub.close();
  });

  it('closes a client that keeps sending while told to wait once its queue passes maxBytes, with the reason', () => {
    const {hub, sink, transport} = blockingHub({receiveQueue: {pauseBytes: 4096, maxBytes: 64 * 1024}});
    let frames = 0;
    while (!transport.closed() && frames < 100) sink.receive(notes(10, 1000, 10 * frames++));
    expect(transport.closed()).toBe(true);
    // ~10 KB a frame: the sixth or seventh passes 64 KB.
    expect(frames).toBeLessThan(10);
    expect(transport.sent.at(-1)).toMatch(/"type":7,"error":"Closed a client that kept sending while the server asked it to wait: \d+ bytes .* bound of 65536 \(option receiveQueue.maxBytes\)\."/);
    expect(hub.receiveQueueOverflows).toBe(1);
    hub.close();
  });

  it('stops reading within a transport message once pauseInvocations wait, and reads the rest once half of them ran', async () => {
    const {sink, transport, release, hub} = blockingHub({receiveQueue: {pauseInvocations: 10, pauseBytes: 1024 * 1024}});
    // 50 invocations then a broken record: while 10 wait, the reader never reaches it.
    sink.receive(`${notes(50, 10)}{"type":1,${RS}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.closed()).toBe(false);
    release();
    await expect.poll(() => transport.closed()).toBe(true);
    expect(transport.sent.filter((s) => s.includes('"invocationId":"n')).length).toBe(50);
    expect(transport.sent.filter((s) => s.startsWith('{"type":7,')).join()).toContain('Message is not valid JSON');
    hub.close();
  });

  it('Server-Sent Events: the send POST is held while the queue is full (a second is refused), and answered once there is room', async () => {
    let url: string;
    ({server, url} = await startServer({topics: {blobs: {unknownTypes: 'accept'}}}));
    const envelope = (id: string, bytes: number) => ({id, type: 'blob.put', version: 1, time: new Date().toISOString(), source: 'test', correlationId: 'c', data: {blob: 'x'.repeat(bytes)}});
    let first: string | undefined;
    for (let i = 0; i < 2500; i++) {
      const result = await server.events.publish('blobs', envelope(`seed-${i}`, 6000));
      first ??= result.ok ? result.value.offset : undefined;
    }
    const {stream, hubUrl} = await openEventStream(url);
    stream.pause();
    const post = (body: string) => fetch(hubUrl, {method: 'POST', body});
    expect((await post(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
    // A 15 MB replay to a reader that stopped: it holds the connection's only invocation slot.
    expect((await post(`{"type":1,"invocationId":"r","target":"subscribe","arguments":["blobs","${first!.split(':')[0]}:0"]}${RS}`)).status).toBe(200);
    let frame = '';
    for (let i = 0; i < 32; i++) frame += `${JSON.stringify({type: 1, target: 'publish', arguments: ['blobs', envelope(`flood-${i}`, 30_000)]})}${RS}`;
    let answered: number | undefined;
    const held = post(frame).then((response) => (answered = response.status));

    await expect.poll(() => server!.hub.receivePausedConnections).toBe(1);
    expect((await post(`{"type":6}${RS}`)).status).toBe(409);
    expect(answered).toBeUndefined();
    stream.resume();
    expect(await held).toBe(200);
    await expect.poll(() => server!.hub.receivePausedConnections).toBe(0);
    stream.destroy();
  }, 60_000);
});
