import type * as signalR from '@microsoft/signalr';
import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {Envelope} from '@switchboard/contracts';
import {MemoryTopicLog, type SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent, startServer} from './helpers.js';

let servers: SwitchboardServer[] = [];
let clients: signalR.HubConnection[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<{server: SwitchboardServer; url: string}> {
  const started = await startServer(options);
  servers.push(started.server);
  return started;
}

async function connect(url: string): Promise<signalR.HubConnection> {
  const c = client(url);
  clients.push(c);
  await c.start();
  return c;
}

/** An envelope of a type no contract knows, with `bytes` of filler: topics with `unknownTypes: 'accept'` take it. */
function filler(bytes: number, id = `f-${Math.random().toString(36).slice(2)}`): Record<string, unknown> {
  return orderPlaced({id, type: 'flood.blob', data: {blob: 'x'.repeat(bytes)}});
}

describe('MemoryTopicLog bounds', () => {
  it('drops the oldest events across topics once the retained bytes pass the bound, and readers hear of it', () => {
    const log = new MemoryTopicLog({maxRetainedBytes: 5_000});
    const size = JSON.stringify(filler(1000, 'probe')).length;
    log.append('a', filler(1000, 'a1') as never);
    log.append('b', filler(1000, 'b1') as never);
    log.append('a', filler(1000, 'a2') as never);
    for (let i = 0; i < 3; i++) log.append('c', filler(1000, `c${i}`) as never);
    expect(log.retainedBytes).toBeLessThanOrEqual(5_000);
    expect(log.retainedBytes).toBeGreaterThan(5_000 - 2 * size);
    // a1 went first, then b1: the oldest of any topic.
    const a = log.read('a', null, 10);
    expect(a.entries.map((e) => e.event.id)).toEqual(['a2']);
    expect(a.truncated).toBe(true);
    expect(log.read('b', null, 10)).toMatchObject({entries: [], truncated: true});
    expect(log.read('c', null, 10)).toMatchObject({truncated: false});
  });

  it('lets a dropped event be collected at once, not when the dead prefix is cut off', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const log = new MemoryTopicLog({maxEvents: 2});
    let first: Record<string, unknown> | undefined = filler(100, 'first');
    const ref = new WeakRef(first);
    log.append('t', first as never);
    first = undefined;
    for (let i = 0; i < 10; i++) log.append('t', filler(100) as never);
    // WeakRef targets stay alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(ref.deref()).toBeUndefined();
  });

  it('keeps idempotent publish exact across many turnovers (its id index is rebuilt as events leave)', () => {
    const log = new MemoryTopicLog({maxEvents: 100});
    const event = (id: string) => orderPlaced({id}) as unknown as Envelope;
    const offsets = Array.from({length: 3000}, (_, i) => log.append('t', event(`e-${i}`)).offset);
    // The retained ones are duplicates, answered with their first offset…
    for (let i = 2900; i < 3000; i++) expect(log.append('t', event(`e-${i}`))).toEqual({offset: offsets[i], duplicate: true});
    // …and one that has left the log is a new event again.
    const again = log.append('t', event('e-0'));
    expect(again.duplicate).toBe(false);
    expect(again.offset).not.toBe(offsets[0]);
    expect(log.sizes().get('t')).toBe(100);
  });

  it('refuses a new topic past the topic cap, and keeps taking events for existing ones', () => {
    const log = new MemoryTopicLog({maxTopics: 2});
    log.append('a', filler(10) as never);
    log.append('b', filler(10) as never);
    expect(() => log.append('c', filler(10) as never)).toThrow(/at most 2 topics \(option maxTopics\)/);
    expect(log.append('a', filler(10) as never).duplicate).toBe(false);
    expect(log.topicCount).toBe(2);
    expect(log.read('c', null, 10).entries).toEqual([]);
  });
});

describe('idle topics are forgotten', () => {
  it('frees the topic cap once topics have had no events and no subscribers for idleTopicMs; a followed topic stays', () => {
    let now = 0;
    const log = new MemoryTopicLog({maxTopics: 3, idleTopicMs: 1000, maxAgeMs: 500, topics: {kept: {maxAgeMs: Number.POSITIVE_INFINITY}}, now: () => now});
    log.setTopicInUse((topic) => topic === 'followed');
    log.append('followed', filler(10, 'f1') as never);
    log.append('kept', filler(10, 'k1') as never);
    const old = log.append('idle', filler(10, 'i1') as never).offset;
    expect(() => log.append('new', filler(10) as never)).toThrow(/at most 3 topics/);
    // Its events expired, but it has been empty for less than idleTopicMs: still counted.
    now = 1200;
    expect(() => log.append('new', filler(10) as never)).toThrow(/at most 3 topics/);
    expect(log.topicCount).toBe(3);
    now = 2600;
    // A new topic's numbers start past those of every forgotten topic, so no old offset can point into it.
    expect(log.append('new', filler(10, 'n1') as never)).toEqual({offset: `${log.epoch}:2`, duplicate: false});
    expect([log.has('followed'), log.has('kept'), log.has('idle'), log.has('new')]).toEqual([true, true, false, true]);
    expect(log.forgottenTopics).toBe(1);
    expect(log.read('followed', null, 10).truncated).toBe(true);
    // The forgotten topic starts again with numbers past its old ones: a reader from before skips nothing
    // (and hears `truncated`, since other topics' numbers were handed out in between).
    now = 2700;
    log.setTopicInUse(() => true);
    expect(() => log.append('idle', filler(10) as never)).toThrow(/at most 3 topics/);
    log.setTopicInUse((topic) => topic !== 'new');
    now = 5000;
    log.append('idle', filler(10, 'i2') as never);
    expect(log.has('new')).toBe(false);
    expect(log.read('idle', old, 10)).toMatchObject({truncated: true, entries: [{event: {id: 'i2'}}]});
    expect(log.read('idle', null, 10)).toMatchObject({truncated: false, entries: [{event: {id: 'i2'}}]});
    expect(log.read('new', `${log.epoch}:1`, 10).truncated).toBe(true);
  });

  it('hands a topic with no events a position a reader resumes from without missing the first ones, even after other topics were forgotten', () => {
    let now = 0;
    const log = new MemoryTopicLog({idleTopicMs: 1000, maxAgeMs: 500, now: () => now});
    expect(log.position('fresh')).toBe(`${log.epoch}:0`);
    log.append('gone', filler(10, 'g1') as never);
    now = 3000;
    log.append('other', filler(10, 'o1') as never);
    expect(log.has('gone')).toBe(false);
    const start = log.position('fresh');
    expect(log.read('fresh', start, 10)).toEqual({entries: [], truncated: false, next: start});
    log.append('fresh', filler(10, 'x1') as never);
    log.append('fresh', filler(10, 'x2') as never);
    expect(log.read('fresh', start, 10)).toMatchObject({truncated: false, entries: [{event: {id: 'x1'}}, {event: {id: 'x2'}}]});
    expect(log.position('fresh')).toBe(log.head('fresh'));
  });

  it('never forgets with idleTopicMs Infinity, and refuses a bad setting', () => {
    let now = 0;
    const log = new MemoryTopicLog({maxTopics: 1, idleTopicMs: Number.POSITIVE_INFINITY, maxAgeMs: 10, now: () => now});
    log.append('a', filler(10) as never);
    now = 365 * 24 * 3600 * 1000;
    expect(() => log.append('b', filler(10) as never)).toThrow(/at most 1 topics/);
    expect(() => new MemoryTopicLog({idleTopicMs: 0})).toThrow(/idleTopicMs must be above 0/);
    expect(() => new MemoryTopicLog({idleTopicMs: Number.NaN})).toThrow(/idleTopicMs must be above 0/);
  });

  it('in a server: a subscribed topic is never forgotten, an idle one is, and a new topic is accepted', async () => {
    let now = 0;
    const log = new MemoryTopicLog({maxTopics: 2, idleTopicMs: 1000, maxAgeMs: 100, now: () => now});
    const {url} = await start({log});
    expect((await postEvent(url, 'orders', orderPlaced({id: 'o-1'}))).status).toBe(202);
    expect((await postEvent(url, 'returns', orderPlaced({id: 'r-1'}))).status).toBe(202);
    const c = await connect(url);
    const received: string[] = [];
    c.on('event', (m: {event: {id: string}}) => void received.push(m.event.id));
    await c.invoke('subscribe', 'orders', null);
    const refused = await postEvent(url, 'refunds', orderPlaced({id: 'x-1'}));
    expect(refused.status).toBe(429);
    await refused.body?.cancel();
    now = 5000;
    expect((await postEvent(url, 'refunds', orderPlaced({id: 'x-2'}))).status).toBe(202);
    expect([log.has('orders'), log.has('returns'), log.has('refunds')]).toEqual([true, false, true]);
    await c.invoke('publish', 'orders', orderPlaced({id: 'o-2'}));
    await vi.waitFor(() => expect(received).toEqual(['o-2']));
  });
});

describe('offsets carry the epoch of the log', () => {
  it('are <epoch>:<seq>, and the same epoch resumes exactly', () => {
    const log = new MemoryTopicLog();
    const first = log.append('t', filler(10, 'one') as never).offset;
    log.append('t', filler(10, 'two') as never);
    expect(first).toBe(`${log.epoch}:1`);
    expect(log.read('t', first, 10)).toMatchObject({truncated: false, entries: [{offset: `${log.epoch}:2`}]});
    expect(new MemoryTopicLog().epoch).not.toBe(log.epoch);
  });

  it('report truncated and replay from the oldest for an offset of another epoch or past the head', () => {
    const log = new MemoryTopicLog();
    log.append('t', filler(10, 'one') as never);
    for (const offset of ['599', 'other:1', `${log.epoch}:99999`]) {
      const page = log.read('t', offset, 10);
      expect(page.truncated, offset).toBe(true);
      expect(page.entries.map((e) => e.event.id)).toEqual(['one']);
    }
    expect(log.read('empty', 'other:3', 10)).toEqual({entries: [], truncated: true, next: null});
    expect(log.read('empty', `${log.epoch}:0`, 10)).toMatchObject({entries: [], truncated: false});
    for (const bad of ['abc', '-1', '1.5', 'a:b:1', ':1', '']) expect(log.isOffset(bad), bad).toBe(false);
  });

  it('a client resuming across a restart hears truncated and gets the new events, over the hub and HTTP', async () => {
    const before = await start();
    for (let i = 0; i < 3; i++) await postEvent(before.url, 'orders', orderPlaced({id: `old-${i}`}));
    const lastSeen = ((await (await fetch(`${before.url}/api/topics/orders/events`)).json()) as {next: string}).next;
    await before.server.close();
    servers = [];

    // The restarted server numbers its events from 1 again; resuming from the old offset must not skip them.
    const after = await start();
    for (let i = 0; i < 5; i++) await postEvent(after.url, 'orders', orderPlaced({id: `new-${i}`}));
    const c = await connect(after.url);
    const got: string[] = [];
    c.on('event', (m: {event: {id: string}}) => got.push(m.event.id));
    const result = (await c.invoke('subscribe', 'orders', lastSeen)) as {truncated: boolean; offset: string};
    expect(result.truncated).toBe(true);
    expect(result.offset).not.toBe(lastSeen);
    expect(got).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);

    const page = (await (await fetch(`${after.url}/api/topics/orders/events?after=${encodeURIComponent(lastSeen)}`)).json()) as {
      truncated: boolean;
      events: {event: {id: string}}[];
    };
    expect(page.truncated).toBe(true);
    expect(page.events).toHaveLength(5);
    expect(await c.invoke('subscribe', 'orders', '99999')).toMatchObject({truncated: true});
    await expect(c.invoke('subscribe', 'orders', 'not an offset')).rejects.toThrow(/is not an offset/);
    expect((await fetch(`${after.url}/api/topics/orders/events?after=x:y`)).status).toBe(400);
  });
});

describe('the flood of the issue, bounded', () => {
  it('12 parallel posters of ~60 KB events to 50 topics: retained bytes stay under the cap, and a healthy client keeps working', async () => {
    const maxRetainedBytes = 2 * 1024 * 1024;
    const log = new MemoryTopicLog({maxRetainedBytes, maxTopics: 40});
    const names = Array.from({length: 50}, (_, i) => `flood-${i}`);
    const {server, url} = await start({log, topics: Object.fromEntries(names.map((n) => [n, {unknownTypes: 'accept' as const}]))});
    const healthy = await connect(url);
    const received: string[] = [];
    healthy.on('event', (m: {event: {id: string}}) => received.push(m.event.id));
    await healthy.invoke('subscribe', 'orders', null);

    const statuses: number[] = [];
    let peak = 0;
    const poster = async (p: number): Promise<void> => {
      for (let i = 0; i < 12; i++) {
        const response = await postEvent(url, names[(p * 12 + i) % names.length]!, filler(60_000));
        statuses.push(response.status);
        if (response.status === 429) expect(((await response.json()) as {error: string}).error).toMatch(/at most 40 topics \(option maxTopics\)/);
        else await response.body?.cancel();
        peak = Math.max(peak, log.retainedBytes);
      }
    };
    const flood = Promise.all(Array.from({length: 12}, (_, p) => poster(p)));
    // The healthy client publishes and is served while the flood goes on.
    for (let i = 0; i < 5; i++) await healthy.invoke('publish', 'orders', orderPlaced({id: `healthy-${i}`}));
    await flood;

    expect(statuses).toHaveLength(144);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(34);
    expect(statuses).toContain(429);
    expect(peak).toBeLessThanOrEqual(maxRetainedBytes);
    expect(log.retainedBytes).toBeLessThanOrEqual(maxRetainedBytes);
    expect(log.topicCount).toBeLessThanOrEqual(40);
    await healthy.invoke('publish', 'orders', orderPlaced({id: 'healthy-last'}));
    await expect.poll(() => received).toEqual(['healthy-0', 'healthy-1', 'healthy-2', 'healthy-3', 'healthy-4', 'healthy-last']);
    expect(server.hub.connectionCount).toBe(1);
  });

  it('a publish over the hub to a new topic past the cap is an invocation error naming the limit', async () => {
    const {url} = await start({log: new MemoryTopicLog({maxTopics: 1}), topics: {other: {unknownTypes: 'accept'}}});
    const c = await connect(url);
    await c.invoke('publish', 'orders', orderPlaced());
    await expect(c.invoke('publish', 'other', filler(10))).rejects.toThrow(/Topic limit reached.*at most 1 topics \(option maxTopics\)/);
    expect(await c.invoke('publish', 'orders', orderPlaced())).toMatchObject({offset: expect.stringMatching(/:2$/)});
  });
});

describe('subscriptions per connection', () => {
  it('are capped with an invocation error naming the limit; resubscribing and unsubscribing work', async () => {
    const {url} = await start({maxSubscriptionsPerConnection: 3});
    const c = await connect(url);
    for (const topic of ['a', 'b', 'c']) await c.invoke('subscribe', topic, null);
    await expect(c.invoke('subscribe', 'd', null)).rejects.toThrow(/at most 3 topics \(option maxSubscriptionsPerConnection\)/);
    await c.invoke('subscribe', 'a', null);
    await c.invoke('unsubscribe', 'a');
    await c.invoke('subscribe', 'd', null);
    // Another connection has its own allowance.
    const other = await connect(url);
    await other.invoke('subscribe', 'a', null);
  });

  it('default to 100', async () => {
    const {url} = await start();
    const c = await connect(url);
    for (let i = 0; i < 100; i++) await c.invoke('subscribe', `t${i}`, null);
    await expect(c.invoke('subscribe', 't100', null)).rejects.toThrow(/at most 100 topics/);
  });
});
