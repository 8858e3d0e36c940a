import type {Socket} from 'node:net';
import type * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, startServer} from './helpers.js';
import {openEventStream} from './raw-socket.js';

const RS = '\u001e';
let server: SwitchboardServer | undefined;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({topics: {blobs: {unknownTypes: 'accept'}}, ...options}));
  return url;
}

/** A healthy official client following `blobs`, counting what it receives. */
async function healthy(url: string): Promise<{connection: signalR.HubConnection; received: () => number}> {
  const connection = client(url);
  cleanups.push(() => connection.stop());
  let n = 0;
  connection.on('event', () => void n++);
  await connection.start();
  await connection.invoke('subscribe', 'blobs', null);
  return {connection, received: () => n};
}

/**
 * Publishes ~30 KB events in batches of half a megabyte until `done()` (or 200 MB, to fail rather
 * than hang), each batch only once the healthy client has everything so far: the healthy client
 * never falls behind, whatever the machine's speed. Returns the number published.
 */
async function flood(done: () => boolean, received: () => number): Promise<number> {
  let published = 0;
  while (!done() && published < 7000) {
    for (let i = 0; i < 16; i++) {
      const result = await server!.events.publish('blobs', orderPlaced({id: `blob-${published++}`, type: 'blob.put', data: {blob: 'x'.repeat(30_000)}}));
      expect(result.ok).toBe(true);
    }
    await expect.poll(received, {timeout: 10_000}).toBe(published);
  }
  return published;
}

describe('backpressure: a connection whose unsent bytes pass the bound is cut off', () => {
  it('WebSocket: a client that handshakes, subscribes, pauses its socket and keeps pinging is cut off; a healthy one gets everything', async () => {
    const url = await setup();
    const good = await healthy(url);
    // The non-reader: a raw SignalR JSON client.
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hubs/events`);
    cleanups.push(() => ws.terminate());
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(data.toString()));
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(`{"protocol":"json","version":1}${RS}`);
    ws.send(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",null]}${RS}`);
    await expect.poll(() => frames.join('')).toContain('"invocationId":"1"');
    (ws as unknown as {_socket: Socket})._socket.pause();
    // It keeps proving it is alive: pings must not save it.
    const pinger = setInterval(() => ws.send(`{"type":6}${RS}`), 20);
    cleanups.push(() => clearInterval(pinger));
    expect(server!.hub.connectionCount).toBe(2);

    const published = await flood(() => server!.hub.slowConsumerDisconnects > 0, good.received);

    expect(server!.hub.slowConsumerDisconnects).toBe(1);
    await expect.poll(() => server!.hub.connectionCount).toBe(1);
    expect(good.received()).toBe(published);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_slow_consumer_disconnects_total 1$/m);
    // Its socket is gone (the server did not wait to send a close frame behind the backlog); its
    // topics resume from their offsets when it reconnects.
    (ws as unknown as {_socket: Socket})._socket.resume();
    expect(await closed).toBe(1006);
    // The healthy client is still served.
    expect(await good.connection.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
  });

  it('Server-Sent Events: a client that stops reading the stream is cut off; a healthy one gets everything', async () => {
    const url = await setup();
    const good = await healthy(url);
    // Open the event stream and never read it.
    const {stream, hubUrl} = await openEventStream(url);
    stream.pause();
    cleanups.push(() => stream.destroy());
    const post = (body: string) => fetch(hubUrl, {method: 'POST', body});
    expect((await post(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
    expect((await post(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",null]}${RS}`)).status).toBe(200);
    await expect.poll(() => server!.hub.groupSize('topic:blobs')).toBe(2);

    const published = await flood(() => server!.hub.slowConsumerDisconnects > 0, good.received);

    expect(server!.hub.slowConsumerDisconnects).toBe(1);
    await expect.poll(() => server!.hub.connectionCount).toBe(1);
    expect(good.received()).toBe(published);
    // The connection is gone: its token is no longer served.
    expect((await post(`{"type":6}${RS}`)).status).toBe(404);
  });

  it('Long Polling: a client that stops polling is cut off once its queue passes the bound', async () => {
    const url = await setup({endpoint: {maxBufferedBytes: 256 * 1024}});
    const good = await healthy(url);
    const negotiated = (await (await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as {connectionToken: string};
    const hubUrl = `${url}/hubs/events?id=${encodeURIComponent(negotiated.connectionToken)}`;
    expect((await fetch(hubUrl)).status).toBe(200);
    const post = (body: string) => fetch(hubUrl, {method: 'POST', body});
    await post(`{"protocol":"json","version":1}${RS}`);
    await post(`{"type":1,"invocationId":"1","target":"subscribe","arguments":["blobs",null]}${RS}`);
    await expect.poll(() => server!.hub.groupSize('topic:blobs')).toBe(2);

    const published = await flood(() => server!.hub.slowConsumerDisconnects > 0, good.received);

    // 256 KB is nine 30 KB events: the cut comes in the first batch.
    expect(published).toBe(16);
    expect(server!.hub.slowConsumerDisconnects).toBe(1);
    await expect.poll(() => server!.hub.connectionCount).toBe(1);
    expect((await fetch(hubUrl)).status).toBe(404);
  });

  it('a subscriber that reads keeps its connection through a burst far above the bound', async () => {
    const url = await setup({endpoint: {maxBufferedBytes: 256 * 1024}});
    const good = await healthy(url);
    let published = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 8; i++) server!.events.publish('blobs', orderPlaced({id: `b-${published++}`, type: 'blob.put', data: {blob: 'x'.repeat(20_000)}}));
      await expect.poll(good.received).toBe(published);
    }
    expect(server!.hub.slowConsumerDisconnects).toBe(0);
    expect(good.connection.state).toBe('Connected');
  });
});
