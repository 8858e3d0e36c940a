import * as signalR from '@microsoft/signalr';
import {MessagePackHubProtocol} from '@microsoft/signalr-protocol-msgpack';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent} from './helpers.js';
import {recordEvents, startNode, until} from './redis-nodes.js';
import {startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const servers: SwitchboardServer[] = [];
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let prefix = 0;
/** Two hub nodes on the test's Redis, with their own key prefix so tests do not share topics. */
async function twoNodes(): Promise<[string, string]> {
  const options = {prefix: `c${++prefix}`};
  const a = await startNode(redis.url, options);
  const b = await startNode(redis.url, options);
  servers.push(a.server, b.server);
  return [a.url, b.url];
}

async function connect(url: string, options: signalR.IHttpConnectionOptions = {transport: signalR.HttpTransportType.WebSockets}): Promise<signalR.HubConnection> {
  const c = client(url, options);
  opened.push(c);
  await c.start();
  return c;
}

describe('two hub nodes on one Redis', () => {
  describe.each([
    ['WebSockets', signalR.HttpTransportType.WebSockets],
    ['ServerSentEvents', signalR.HttpTransportType.ServerSentEvents],
    ['LongPolling', signalR.HttpTransportType.LongPolling],
  ] as const)('over %s', (_, transport) => {
    it('a client on node A receives, once each and in order, what is published on node B', async () => {
      const [a, b] = await twoNodes();
      const onA = await connect(a, {transport});
      const got = recordEvents(onA);
      await onA.invoke('subscribe', 'orders', null);
      const onB = await connect(b);
      for (let i = 0; i < 20; i++) {
        if (i % 2 === 0) expect((await postEvent(b, 'orders', orderPlaced({id: `e-${i}`}))).status).toBe(202);
        else await onB.invoke('publish', 'orders', orderPlaced({id: `e-${i}`}));
      }
      await until(() => got.length >= 20);
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(Array.from({length: 20}, (_, i) => `e-${i}`));
    });
  });

  it('replays on node B what was published on node A while the client was away', async () => {
    const [a, b] = await twoNodes();
    const first = await connect(a);
    const seen = recordEvents(first);
    await first.invoke('subscribe', 'orders', null);
    for (let i = 0; i < 3; i++) await postEvent(a, 'orders', orderPlaced({id: `e-${i}`}));
    await until(() => seen.length === 3);
    const offsets: string[] = [];
    first.on('event', ({offset}: {offset: string}) => void offsets.push(offset));
    await postEvent(a, 'orders', orderPlaced({id: 'e-3'}));
    await until(() => offsets.length === 1);
    await first.stop();
    for (let i = 4; i < 8; i++) await postEvent(a, 'orders', orderPlaced({id: `e-${i}`}));
    const second = await connect(b);
    const resumed = recordEvents(second);
    const result = (await second.invoke('subscribe', 'orders', offsets[0])) as {truncated: boolean; offset: string};
    expect(result.truncated).toBe(false);
    await until(() => resumed.length >= 4);
    expect(resumed).toEqual(['e-4', 'e-5', 'e-6', 'e-7']);
  });

  it('replays stored events to a MessagePack client as they were published (JSON clients get the stored text as it is)', async () => {
    const [a, b] = await twoNodes();
    const events = [orderPlaced({id: 'm-0'}), orderPlaced({id: 'm-1', data: {orderId: 'o-é', sku: 'tea-sencha', quantity: 3}})];
    const offsets: string[] = [];
    for (const event of events) offsets.push(((await (await postEvent(a, 'orders', event)).json()) as {offset: string}).offset);
    for (const protocol of [new MessagePackHubProtocol(), undefined]) {
      const builder = new signalR.HubConnectionBuilder().withUrl(`${b}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets}).configureLogging(signalR.LogLevel.None);
      const c = (protocol === undefined ? builder : builder.withHubProtocol(protocol)).build();
      opened.push(c);
      const got: unknown[] = [];
      c.on('event', (e: unknown) => void got.push(e));
      await c.start();
      await c.invoke('subscribe', 'orders', `${offsets[0]!.split(':')[0]}:0`);
      await until(() => got.length === 2);
      expect(got).toEqual(events.map((event, i) => ({topic: 'orders', offset: offsets[i], event})));
    }
  });

  it('answers a subscribe to a topic never published to with a position another node resumes from, missing nothing', async () => {
    const [a, b] = await twoNodes();
    const first = await connect(b, {transport: signalR.HttpTransportType.WebSockets});
    const {offset} = (await first.invoke('subscribe', 'empty-yet', null)) as {offset: string | null};
    expect(offset).not.toBeNull();
    const events = [orderPlaced({id: 'z-0'}), orderPlaced({id: 'z-1'})];
    for (const event of events) expect((await postEvent(a, 'empty-yet', event)).status).toBe(202);
    const later = await connect(a, {transport: signalR.HttpTransportType.WebSockets});
    const got: Array<{event: {id: string}}> = [];
    later.on('event', (e: {event: {id: string}}) => void got.push(e));
    expect(await later.invoke('subscribe', 'empty-yet', offset)).toMatchObject({truncated: false});
    await until(() => got.length === 2);
    expect(got.map((e) => e.event.id)).toEqual(['z-0', 'z-1']);
  });

  it('pushes live events to MessagePack and JSON clients alike (JSON clients get the announced text as it is)', async () => {
    const [a, b] = await twoNodes();
    const received = new Map<string, unknown[]>();
    for (const [name, protocol] of [['msgpack', new MessagePackHubProtocol()], ['json', undefined]] as const) {
      const builder = new signalR.HubConnectionBuilder().withUrl(`${b}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets}).configureLogging(signalR.LogLevel.None);
      const c = (protocol === undefined ? builder : builder.withHubProtocol(protocol)).build();
      opened.push(c);
      const got: unknown[] = [];
      received.set(name, got);
      c.on('event', (e: unknown) => void got.push(e));
      await c.start();
      await c.invoke('subscribe', 'live', null);
    }
    const events = [orderPlaced({id: 'l-0'}), orderPlaced({id: 'l-1', data: {orderId: 'o-é', sku: 'tea-sencha', quantity: 3}})];
    const offsets: string[] = [];
    for (const event of events) offsets.push(((await (await postEvent(a, 'live', event)).json()) as {offset: string}).offset);
    const expected = events.map((event, i) => ({topic: 'live', offset: offsets[i], event}));
    for (const got of received.values()) {
      await until(() => got.length === 2);
      expect(got).toEqual(expected);
    }
  });

  it('delivers group, user and single-connection sends made on one node to connections on the other', async () => {
    const [a] = await twoNodes();
    const onA = await connect(a, {transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => 'ann'});
    await onA.invoke('join', 'tea');
    const id = (await onA.invoke('whoami')) as string;
    const heard: string[] = [];
    onA.on('news', (text: string) => void heard.push(text));
    const nodeB = servers[1]!;
    // listen() returned once both nodes had subscribed their channels: nothing needs to be retried.
    nodeB.hub.clients.group('tea').send('news', 'group');
    nodeB.hub.clients.user('ann').send('news', 'user');
    nodeB.hub.clients.client(id).send('news', 'connection');
    nodeB.hub.clients.all.send('news', 'all');
    nodeB.hub.clients.user('bob').send('news', 'not for ann');
    await until(() => heard.length >= 4);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual(['group', 'user', 'connection', 'all']);
    expect(nodeB.hub.groupSize('tea')).toBe(0);
  });

  it('gets a client result from a connection on the other node, and its error', async () => {
    const [a] = await twoNodes();
    const onA = await connect(a);
    onA.on('add', (x: number, y: number) => x + y);
    onA.on('fail', () => {
      throw new Error('no way');
    });
    const id = (await onA.invoke('whoami')) as string;
    const nodeB = servers[1]!;
    expect(nodeB.hub.connection(id)).toBeUndefined();
    expect(await nodeB.hub.invokeClient(id, 'add', [2, 3], {timeoutMs: 5000})).toBe(5);
    await expect(nodeB.hub.invokeClient(id, 'fail', [], {timeoutMs: 5000})).rejects.toThrow('no way');
  });

  it('fails a client-result invocation at once when no node holds the connection', async () => {
    const [a] = await twoNodes();
    const onA = await connect(a);
    onA.on('add', (x: number, y: number) => x + y);
    const id = (await onA.invoke('whoami')) as string;
    const nodeB = servers[1]!;
    expect(await nodeB.hub.invokeClient(id, 'add', [1, 1], {timeoutMs: 60_000})).toBe(2);
    await onA.stop();
    await until(() => servers[0]!.hub.connection(id) === undefined);
    // The timeout is a minute, the test's own limit 5 s: only an immediate refusal passes.
    await expect(nodeB.hub.invokeClient(id, 'add', [1, 1], {timeoutMs: 60_000})).rejects.toThrow(`Connection '${id}' is not connected to any hub process.`);
    await expect(nodeB.hub.invokeClient('nobody', 'add', [1, 1], {timeoutMs: 60_000})).rejects.toThrow(/not connected to any hub process/);
  }, 5000);
});
