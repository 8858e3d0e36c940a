import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, collect, orderPlaced, postEvent, startServer, offsetAt} from './helpers.js';

/** Offset `n` of the running server's log. */
const at = (n: number): string => offsetAt(server!, n);

interface TopicEvent {
  topic: string;
  offset: string;
  event: {id: string; type: string; data: unknown};
}

let server: SwitchboardServer | undefined;
const connections: signalR.HubConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

async function connected(url: string, options?: signalR.IHttpConnectionOptions): Promise<signalR.HubConnection> {
  const connection = client(url, options);
  connections.push(connection);
  await connection.start();
  return connection;
}

describe('the official @microsoft/signalr client (Node build) over WebSockets + JSON', () => {
  it('connects, subscribes and receives an event POSTed to the topic', async () => {
    let url: string;
    ({server, url} = await startServer());
    const connection = await connected(url);
    expect(connection.state).toBe(signalR.HubConnectionState.Connected);

    const subscribed = await connection.invoke('subscribe', 'orders', null);
    expect(subscribed).toEqual({topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false});

    const received = collect<TopicEvent>((push) => connection.on('event', push), 1);
    const envelope = orderPlaced();
    const response = await postEvent(url, 'orders', envelope);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({offset: at(1)});

    const [message] = await received;
    expect(message).toMatchObject({topic: 'orders', offset: at(1), event: {id: envelope['id'], type: 'order.placed'}});
    expect(message!.event.data).toEqual({orderId: 'o-1', sku: 'tea-sencha', quantity: 2});
  });

  it('replays every retained event after fromOffset, in order, before live ones', async () => {
    let url: string;
    ({server, url} = await startServer());
    for (let i = 0; i < 5; i++) expect((await postEvent(url, 'orders', orderPlaced({id: `e${i}`}))).status).toBe(202);

    const connection = await connected(url);
    const received = collect<TopicEvent>((push) => connection.on('event', push), 4);
    const subscribed = await connection.invoke('subscribe', 'orders', at(2));
    expect(subscribed).toEqual({topic: 'orders', offset: at(5), truncated: false});
    await postEvent(url, 'orders', orderPlaced({id: 'e5'}));
    const events = await received;
    expect(events.map((e) => [e.offset, e.event.id])).toEqual([
      [at(3), 'e2'],
      [at(4), 'e3'],
      [at(5), 'e4'],
      [at(6), 'e5'],
    ]);
  });

  it('connects with skipNegotiation straight over a WebSocket', async () => {
    let url: string;
    ({server, url} = await startServer());
    const connection = await connected(url, {transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true});
    expect(await connection.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
  });

  it('matches hub method names case-insensitively', async () => {
    let url: string;
    ({server, url} = await startServer());
    const connection = await connected(url);
    expect(await connection.invoke('SUBSCRIBE', 'orders', null)).toMatchObject({topic: 'orders'});
  });

  it('fails an invocation with a clear message and keeps the connection for wrong input', async () => {
    let url: string;
    ({server, url} = await startServer());
    const connection = await connected(url);
    await expect(connection.invoke('nope')).rejects.toThrow("Unknown hub method 'nope'.");
    await expect(connection.invoke('subscribe', 'orders')).rejects.toThrow(
      "'subscribe' takes 2 argument(s) (topic, fromOffset) but was given 1.",
    );
    await expect(connection.invoke('subscribe', 42, null)).rejects.toThrow("Invalid argument 'topic' of 'subscribe'");
    await expect(connection.invoke('subscribe', 'orders', 'not-an-offset')).rejects.toThrow('is not an offset');
    await expect(connection.invoke('publish', 'orders', {type: 'order.placed'})).rejects.toThrow('invalid envelope');
    expect(connection.state).toBe(signalR.HubConnectionState.Connected);
    expect(await connection.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
  });

  it('publishes over the hub to every subscriber, once per envelope id', async () => {
    let url: string;
    ({server, url} = await startServer());
    const [a, b] = await Promise.all([connected(url), connected(url)]);
    await Promise.all([a.invoke('subscribe', 'orders', null), b.invoke('subscribe', 'orders', null)]);
    const atB = collect<TopicEvent>((push) => b.on('event', push), 2);
    const first = orderPlaced({id: 'same'});
    expect(await a.invoke('publish', 'orders', first)).toEqual({offset: at(1)});
    expect(await a.invoke('publish', 'orders', first)).toEqual({offset: at(1)});
    expect(await a.invoke('publish', 'orders', orderPlaced({id: 'other'}))).toEqual({offset: at(2)});
    expect((await atB).map((e) => e.event.id)).toEqual(['same', 'other']);
  });
});
