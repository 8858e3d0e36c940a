import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent} from './helpers.js';
import {startNode, until} from './redis-nodes.js';
import {startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer | undefined;
const servers: SwitchboardServer[] = [];
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await redis?.stop();
  redis = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hub sends while Redis is down', () => {
  it('wait in a bounded outbox and reach the other node once, in order, when Redis is back; past the bound they are refused and counted', async () => {
    redis = await startRedis();
    const a = await startNode(redis.url, {outbox: {maxMessages: 4}});
    const b = await startNode(redis.url);
    // A node whose outbox holds one ~120-byte send, not two, by its byte bound.
    const c = await startNode(redis.url, {outbox: {maxBytes: 200}});
    servers.push(a.server, b.server, c.server);
    const ann = client(b.url, {transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => 'ann'});
    opened.push(ann);
    await ann.start();
    await ann.invoke('join', 'tea');
    const heard: string[] = [];
    ann.on('news', (text: string) => void heard.push(text));
    a.server.hub.clients.group('tea').send('news', 'before');
    await until(() => heard.length === 1);

    await redis.kill();
    await until(() => !a.engine.connection.isReady, 5000, 'node A to notice the outage');
    a.server.hub.clients.group('tea').send('news', 'group');
    a.server.hub.clients.user('ann').send('news', 'user');
    a.server.hub.clients.all.send('news', 'all');
    a.server.hub.clients.groups(['tea', 'coffee']).send('news', 'groups');
    a.server.hub.clients.group('tea').send('news', 'one too many');
    expect(a.engine.backplane.stats()).toEqual({queued: 4, refused: 1});
    await until(() => !c.engine.connection.isReady, 5000, 'node C to notice the outage');
    c.server.hub.clients.group('tea').send('news', 'from c');
    c.server.hub.clients.group('tea').send('news', 'from c, past the byte bound');
    expect(c.engine.backplane.stats()).toEqual({queued: 1, refused: 1});
    // A subscribe needs Redis (to listen to the topic and read its log): refused with a clear error.
    const late = client(b.url);
    opened.push(late);
    await late.start();
    await expect(late.invoke('subscribe', 'orders', null)).rejects.toThrow(/event store is unavailable/);
    const metrics = await (await fetch(`${a.url}/metrics`, {headers: {authorization: 'Bearer ops'}})).text();
    expect(metrics).toMatch(/^switchboard_backplane_refused_total 1$/m);
    expect(metrics).toMatch(/^switchboard_backplane_queued 4$/m);
    await sleep(3000);
    expect(heard).toEqual(['before']);

    await redis.restart();
    await until(() => heard.length >= 6, 15_000, 'the outboxes to reach node B');
    // Anything sent twice would arrive right behind the rest.
    await sleep(500);
    // Each node's sends in order; the two nodes' outboxes flush side by side.
    expect(heard.filter((h) => h !== 'from c')).toEqual(['before', 'group', 'user', 'all', 'groups']);
    expect(heard.filter((h) => h === 'from c')).toHaveLength(1);
    expect(a.engine.backplane.stats()).toEqual({queued: 0, refused: 1});
    expect(c.engine.backplane.stats()).toEqual({queued: 0, refused: 1});
    // Subscribing works again, and the subscriber is live.
    const got: string[] = [];
    late.on('event', ({event}: {event: {id: string}}) => void got.push(event.id));
    await until(() => a.engine.connection.isReady && b.engine.connection.isReady);
    await late.invoke('subscribe', 'orders', null);
    expect((await postEvent(a.url, 'orders', orderPlaced({id: 'after-outage'}))).status).toBe(202);
    await until(() => got.length === 1);
    expect(got).toEqual(['after-outage']);
    // And sends go straight out again.
    a.server.hub.clients.group('tea').send('news', 'after');
    await until(() => heard.length === 7);
    expect(heard.at(-1)).toBe('after');
  }, 40_000);
});
