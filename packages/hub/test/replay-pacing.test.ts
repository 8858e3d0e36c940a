import type {Socket} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import * as signalR from '@microsoft/signalr';
import WebSocket from 'ws';
import {DEFAULT_MAX_HELD_DURING_REPLAY, type SwitchboardServer, type SwitchboardServerOptions} from '../src/index.js';
import {client as officialClient, orderPlaced, startServer} from './helpers.js';
import {openEventStream} from './raw-socket.js';

const RS = '\u001e';
let server: SwitchboardServer | undefined;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
  server = undefined;
});

/** Events after the resume offset: 260 of ~20 KB, about 5 MB, five times the 1 MB bound. */
const EVENTS = 260;
const BLOB = 'x'.repeat(20_000);

/** Starts a server and retains `first` then {@link EVENTS} big events on `blobs`; returns the url and the first event's offset. */
async function setup(options: Partial<SwitchboardServerOptions> = {}): Promise<{url: string; from: string}> {
  let url: string;
  ({server, url} = await startServer({topics: {blobs: {unknownTypes: 'accept'}}, ...options}));
  const first = await server.events.publish('blobs', orderPlaced({id: 'first'}));
  if (!first.ok) throw new Error('publish failed');
  for (let n = 0; n < EVENTS; n++) {
    const result = await server.events.publish('blobs', orderPlaced({id: `b-${n}`, type: 'blob.put', data: {blob: BLOB}}));
    expect(result.ok).toBe(true);
  }
  return {url, from: first.value.offset};
}

const expected = Array.from({length: EVENTS}, (_, n) => `b-${n}`);

/** Parses SignalR JSON records; collects the ids of `event` invocations and the completions' invocation ids. */
function records(text: string, ids: string[], completions: string[]): void {
  for (const record of text.split(RS)) {
    if (record === '') continue;
    const m = JSON.parse(record) as {type: number; target?: string; invocationId?: string; arguments?: Array<{event: {id: string}}>};
    if (m.type === 1 && m.target === 'event') ids.push(m.arguments![0]!.event.id);
    if (m.type === 3) completions.push(m.invocationId!);
  }
}

/** Reads `socket` slowly: paused, with a short resume every few milliseconds (a slow link). */
function readSlowly(socket: {pause(): unknown; resume(): unknown}): () => void {
  socket.pause();
  const timer = setInterval(() => {
    socket.resume();
    setImmediate(() => socket.pause());
  }, 5);
  return () => {
    clearInterval(timer);
    socket.resume();
  };
}

/** A raw SignalR JSON client over WebSockets: handshake done, nothing subscribed. */
async function rawWebSocket(url: string): Promise<{ws: WebSocket; socket: Socket; ids: string[]; completions: string[]; closed: Promise<number>}> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hubs/events`);
  cleanups.push(() => ws.terminate());
  const ids: string[] = [];
  const completions: string[] = [];
  let handshook = false;
  ws.on('message', (data) => {
    let text = data.toString();
    if (!handshook) {
      handshook = true;
      text = text.slice(text.indexOf(RS) + 1);
    }
    records(text, ids, completions);
  });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(`{"protocol":"json","version":1}${RS}`);
  await expect.poll(() => handshook).toBe(true);
  return {ws, socket: (ws as unknown as {_socket: Socket})._socket, ids, completions, closed};
}

describe('a replay goes at the pace the client reads', () => {
  it('WebSocket: a client reading slowly resumes 5 MB (five times the unsent-bytes bound) in order without being cut', async () => {
    const {url, from} = await setup();
    const client = await rawWebSocket(url);
    const stop = readSlowly(client.socket);
    cleanups.push(stop);
    client.ws.send(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",${JSON.stringify(from)}]}${RS}`);

    await expect.poll(() => client.ids.length, {timeout: 30_000}).toBe(EVENTS);
    expect(client.ids).toEqual(expected);
    await expect.poll(() => client.completions).toEqual(['1']);
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    // Live events follow the replay.
    await server!.events.publish('blobs', orderPlaced({id: 'live'}));
    await expect.poll(() => client.ids.at(-1)).toBe('live');
  });

  it('Server-Sent Events: a client reading the stream slowly resumes 5 MB in order without being cut', async () => {
    const {url, from} = await setup();
    const {stream, hubUrl} = await openEventStream(url);
    cleanups.push(() => stream.destroy());
    const ids: string[] = [];
    const completions: string[] = [];
    let text = '';
    let handshook = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      let end: number;
      while ((end = text.indexOf('\r\n\r\n')) >= 0) {
        const event = text.slice(0, end);
        text = text.slice(end + 4);
        let data = event
          .split('\r\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (!handshook && data !== '') {
          handshook = true;
          data = data.slice(data.indexOf(RS) + 1);
        }
        records(data, ids, completions);
      }
    });
    const post = (body: string) => fetch(hubUrl, {method: 'POST', body});
    expect((await post(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
    await expect.poll(() => handshook).toBe(true);
    const stop = readSlowly(stream);
    cleanups.push(stop);
    expect((await post(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",${JSON.stringify(from)}]}${RS}`)).status).toBe(200);

    await expect.poll(() => ids.length, {timeout: 30_000}).toBe(EVENTS);
    expect(ids).toEqual(expected);
    await expect.poll(() => completions).toEqual(['1']);
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(server!.hub.connectionCount).toBe(1);
  });

  it('Long Polling: the official client resumes 5 MB in order, each poll taking at most what the bound allows, without being cut', async () => {
    const {url, from} = await setup();
    const connection = officialClient(url, {transport: signalR.HttpTransportType.LongPolling});
    cleanups.push(() => connection.stop());
    const ids: string[] = [];
    connection.on('event', ({event}: {event: {id: string}}) => void ids.push(event.id));
    await connection.start();
    expect(await connection.invoke('subscribe', 'blobs', from)).toMatchObject({topic: 'blobs', truncated: false});
    await expect.poll(() => ids.length).toBe(EVENTS);
    expect(ids).toEqual(expected);
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(connection.state).toBe(signalR.HubConnectionState.Connected);
  });

  it('a client that never reads waits mid-replay, and is cut as a slow consumer once the live events held for it pass maxHeldDuringReplay', async () => {
    const {url, from} = await setup({maxHeldDuringReplay: 20});
    const client = await rawWebSocket(url);
    client.socket.pause();
    client.ws.send(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",${JSON.stringify(from)}]}${RS}`);
    // The replay stops at the bound's low-water mark, not cut: the client is still connected.
    await expect.poll(() => server!.hub.groupSize('topic:blobs')).toBe(1);
    for (let n = 0; n < 20; n++) await server!.events.publish('blobs', orderPlaced({id: `live-${n}`}));
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(server!.hub.connectionCount).toBe(1);

    // The 21st live event held for it passes the bound.
    await server!.events.publish('blobs', orderPlaced({id: 'live-20'}));
    await expect.poll(() => server!.hub.slowConsumerDisconnects).toBe(1);
    await expect.poll(() => server!.hub.connectionCount).toBe(0);
    client.socket.resume();
    expect(await client.closed).toBe(1006);
    // What it got before the cut is an in-order prefix of the replay, which never finished.
    expect(client.ids.length).toBeLessThan(EVENTS);
    expect(client.ids).toEqual(expected.slice(0, client.ids.length));
    expect(client.completions).toEqual([]);
    // The topic's feed is not left behind: a new subscriber resumes from the same offset and gets everything.
    const again = await rawWebSocket(url);
    again.ws.send(`{"type":1,"invocationId":"2","target":"subscribe","arguments":["blobs",${JSON.stringify(from)}]}${RS}`);
    await expect.poll(() => again.completions).toEqual(['2']);
    expect(again.ids).toEqual([...expected, ...Array.from({length: 21}, (_, n) => `live-${n}`)]);
  });

  it('by default, holds 10,000 live events for a replay waiting on its client, and cuts at the next', async () => {
    const {url, from} = await setup();
    const client = await rawWebSocket(url);
    client.socket.pause();
    client.ws.send(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",${JSON.stringify(from)}]}${RS}`);
    await expect.poll(() => server!.hub.groupSize('topic:blobs')).toBe(1);
    for (let n = 0; n < DEFAULT_MAX_HELD_DURING_REPLAY; n++) await server!.events.publish('blobs', orderPlaced({id: `live-${n}`}));
    await new Promise((resolve) => setImmediate(resolve));
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(server!.hub.connectionCount).toBe(1);
    await server!.events.publish('blobs', orderPlaced({id: 'one-more'}));
    await expect.poll(() => server!.hub.slowConsumerDisconnects).toBe(1);
    expect(DEFAULT_MAX_HELD_DURING_REPLAY).toBe(10_000);
  });
});
