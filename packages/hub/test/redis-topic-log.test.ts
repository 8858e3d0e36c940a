import {createClient} from 'redis';
import {pino} from 'pino';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Envelope} from '@switchboard/contracts';
import {RedisConnection, RedisKeys, RedisTopicLog, type AppendedEvent} from '../src/index.js';
import {orderPlaced} from './helpers.js';
import {startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer;
let connection: RedisConnection;
/** A plain client beside the log's, to look at Redis directly. */
let admin: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = await startRedis();
  connection = new RedisConnection({url: redis.url, logger: pino({level: 'silent'})});
  await connection.start();
  admin = createClient({url: redis.url});
  await admin.connect();
});
afterAll(async () => {
  admin.destroy();
  await connection.close();
  await redis.stop();
});

let n = 0;
const logOf = (options: {maxEvents?: number; maxAgeMs?: number} = {}) =>
  new RedisTopicLog({connection, keys: new RedisKeys(`t${++n}`), logger: pino({level: 'silent'}), ...options});
const event = (id: string) => orderPlaced({id, time: '2026-11-23T10:00:00.000Z'}) as unknown as Envelope;
/** How many times Redis has run `command` (lower case, as INFO names it) since it started. */
const callsOf = async (command: string) =>
  Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await admin.info('commandstats'))?.[1] ?? 0);

describe('the Redis Streams topic log', () => {
  it('appends with offsets <epoch>:<seq> and reads them back in order, in pages', async () => {
    const log = logOf();
    const offsets: string[] = [];
    for (let i = 0; i < 5; i++) offsets.push((await log.append('orders', event(`e-${i}`))).offset);
    const epoch = offsets[0]!.split(':')[0]!;
    expect(offsets).toEqual([1, 2, 3, 4, 5].map((s) => `${epoch}:${s}`));
    expect(offsets.every((o) => log.isOffset(o))).toBe(true);
    expect(await log.head('orders')).toBe(`${epoch}:5`);
    const first = await log.read('orders', null, 2);
    expect(first.entries.map((e) => e.event.id)).toEqual(['e-0', 'e-1']);
    const rest = await log.read('orders', first.next, 10);
    expect(rest).toEqual({entries: offsets.slice(2).map((offset, i) => ({offset, event: event(`e-${i + 2}`)})), truncated: false, next: offsets[4]});
    expect(await log.head('nothing')).toBeNull();
  });

  it('gives a topic never appended to a position that a reader resumes from without missing its first events', async () => {
    const log = logOf();
    const start = await log.position('orders');
    expect(log.isOffset(start)).toBe(true);
    expect(await log.read('orders', start, 10)).toEqual({entries: [], truncated: false, next: start});
    const offsets: string[] = [];
    for (let i = 0; i < 3; i++) offsets.push((await log.append('orders', event(`p-${i}`))).offset);
    const after = await log.read('orders', start, 10);
    expect(after.entries.map((e) => e.offset)).toEqual(offsets);
    expect(after.truncated).toBe(false);
    // Once the topic exists, its position is its head.
    expect(await log.position('orders')).toBe(offsets[2]);
  });

  it('reads a never-appended topic\'s position as truncated once retention dropped its first events', async () => {
    const log = logOf({maxEvents: 2});
    const start = await log.position('orders');
    for (let i = 0; i < 4; i++) await log.append('orders', event(`q-${i}`));
    const after = await log.read('orders', start, 10);
    expect(after.entries.map((e) => e.event.id)).toEqual(['q-2', 'q-3']);
    expect(after.truncated).toBe(true);
  });

  it('appends an envelope id once: a second append returns the first offset', async () => {
    const log = logOf();
    const first = await log.append('orders', event('same'));
    expect(await log.append('orders', event('same'))).toEqual({offset: first.offset, duplicate: true});
    expect((await log.read('orders', null, 10)).entries).toHaveLength(1);
  });

  it('appends a batch in one call with consecutive offsets, a duplicate (retained or earlier in the batch) once, announcing each new event', async () => {
    const log = logOf();
    const heard: string[] = [];
    const stop = log.watch({topics: ['orders'], appended: (e) => void heard.push(`${e.offset} ${e.event.id}`)});
    await new Promise((r) => setTimeout(r, 50));
    const first = await log.append('orders', event('a'));
    const epoch = first.offset.split(':')[0]!;
    const batch = await log.appendMany('orders', [event('b'), event('a'), event('c'), event('b'), event('d')]);
    expect(batch).toEqual([
      {offset: `${epoch}:2`, duplicate: false},
      {offset: first.offset, duplicate: true},
      {offset: `${epoch}:3`, duplicate: false},
      {offset: `${epoch}:2`, duplicate: true},
      {offset: `${epoch}:4`, duplicate: false},
    ]);
    expect((await log.read('orders', null, 10)).entries.map((e) => e.event.id)).toEqual(['a', 'b', 'c', 'd']);
    const deadline = Date.now() + 5000;
    while (heard.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop();
    expect(heard).toEqual([`${epoch}:1 a`, `${epoch}:2 b`, `${epoch}:3 c`, `${epoch}:4 d`]);
  });

  it('a watcher naming topics hears only those; follow() makes a followed-topics watcher hear a topic until released', async () => {
    const log = logOf();
    const named: string[] = [];
    const followed: string[] = [];
    const stopNamed = log.watch({topics: ['orders'], appended: (e) => void named.push(`${e.topic} ${e.event.id}`)});
    const stopFollowed = log.watch({topics: 'followed', appended: (e) => void followed.push(`${e.topic} ${e.event.id}`)});
    const release = await log.follow('stock');
    const again = await log.follow('stock');
    await new Promise((r) => setTimeout(r, 50));
    await log.append('orders', event('o1'));
    await log.append('stock', event('s1'));
    await log.append('other', event('x1'));
    const deadline = Date.now() + 5000;
    while ((named.length < 1 || followed.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    release();
    expect(log.followed.get('stock')).toBe(1);
    again();
    expect(log.followed.has('stock')).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    await log.append('stock', event('s2'));
    await log.append('orders', event('o2'));
    while (named.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    stopNamed();
    stopFollowed();
    expect(named).toEqual(['orders o1', 'orders o2']);
    expect(followed).toEqual(['stock s1']);
  });

  it('sends the appends to a topic made in one turn as one script call, answering each caller in call order', async () => {
    const log = logOf();
    const scriptCalls = () => callsOf('evalsha');
    await log.append('orders', event('warm'));
    const before = await scriptCalls();
    // A turn's appends, with a duplicate id among them, then a batch call and one more append.
    const single = ['a', 'b', 'a', 'c'].map((id) => log.append('orders', event(id)));
    const many = log.appendMany('orders', [event('d'), event('e')]);
    const last = log.append('orders', event('f'));
    const results = [...(await Promise.all(single)), ...(await many), await last];
    const calls = (await scriptCalls()) - before;
    const epoch = results[0]!.offset.split(':')[0]!;
    expect(results).toEqual([
      {offset: `${epoch}:2`, duplicate: false},
      {offset: `${epoch}:3`, duplicate: false},
      {offset: `${epoch}:2`, duplicate: true},
      {offset: `${epoch}:4`, duplicate: false},
      {offset: `${epoch}:5`, duplicate: false},
      {offset: `${epoch}:6`, duplicate: false},
      {offset: `${epoch}:7`, duplicate: false},
    ]);
    // One call for the four single appends, one for appendMany, one for the append after it.
    expect(calls).toBe(3);
    expect((await log.read('orders', null, 10)).entries.map((e) => e.event.id)).toEqual(['warm', 'a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('answers exists() from memory after an append or a head read, and from Redis for a topic it has not seen', async () => {
    const log = logOf();
    const reads = () => callsOf('hmget');
    let before = await reads();
    expect(await log.exists('orders')).toBe(false);
    expect((await reads()) - before).toBe(1);
    await log.append('orders', event('a'));
    before = await reads();
    expect(await log.exists('orders')).toBe(true);
    expect(await log.exists('orders')).toBe(true);
    expect((await reads()) - before).toBe(0);
    // Another process's topic: read once, then remembered.
    await logOf().append('elsewhere', event('b'));
    const other = new RedisTopicLog({connection, keys: new RedisKeys(`t${n}`), logger: pino({level: 'silent'})});
    before = await reads();
    expect(await other.exists('elsewhere')).toBe(true);
    expect(await other.exists('elsewhere')).toBe(true);
    expect((await reads()) - before).toBe(1);
  });

  it('hears a batch announcement line by line, skipping an unreadable line without losing the others', async () => {
    const keys = new RedisKeys(`t${++n}`);
    const log = new RedisTopicLog({connection, keys, logger: pino({level: 'silent'})});
    const heard: string[] = [];
    const stop = log.watch({topics: ['orders'], appended: (e) => void heard.push(`${e.offset} ${e.event.id}`)});
    await new Promise((r) => setTimeout(r, 50));
    const line = (offset: string, id: string) => `${offset} ${JSON.stringify(event(id))}`;
    await admin.publish(keys.topicChannel('orders'), [line('e:1', 'a'), 'no-space-here', line('e:2', 'b')].join('\n'));
    const deadline = Date.now() + 5000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop();
    expect(heard).toEqual(['e:1 a', 'e:2 b']);
  });

  it('splits a turn of more than 256 appends into calls of at most 256 events', async () => {
    const log = logOf();
    const scriptCalls = () => callsOf('evalsha');
    await log.append('orders', event('warm'));
    const before = await scriptCalls();
    const results = await Promise.all(Array.from({length: 300}, (_, i) => log.append('orders', event(`e-${i}`))));
    const calls = (await scriptCalls()) - before;
    expect(results.map((r) => Number(r.offset.split(':')[1]))).toEqual(Array.from({length: 300}, (_, i) => i + 2));
    expect(calls).toBe(2);
  });

  it('refuses every append of a turn together when Redis refuses their script call, storing none', async () => {
    const log = logOf();
    // A wrong-type key where the topic's meta hash belongs makes the script fail.
    await admin.set(new RedisKeys(`t${n}`).meta('orders'), 'not a hash');
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => log.append('orders', event(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await admin.exists(new RedisKeys(`t${n}`).stream('orders'))).toBe(0);
    const unreadable = {
      get id(): string {
        throw new Error('unreadable');
      },
    };
    await expect(log.append('orders', unreadable as unknown as Envelope)).rejects.toThrow('unreadable');
  });

  it('trims by count and reports a resume from a dropped offset as truncated', async () => {
    const log = logOf({maxEvents: 3});
    const offsets: string[] = [];
    for (let i = 0; i < 6; i++) offsets.push((await log.append('orders', event(`e-${i}`))).offset);
    const page = await log.read('orders', offsets[0]!, 10);
    expect(page.truncated).toBe(true);
    expect(page.entries.map((e) => e.event.id)).toEqual(['e-3', 'e-4', 'e-5']);
    expect((await log.read('orders', offsets[2]!, 10)).truncated).toBe(false);
  });

  it('trims by age', async () => {
    const log = logOf({maxAgeMs: 100});
    await log.append('orders', event('old'));
    await new Promise((r) => setTimeout(r, 150));
    await log.append('orders', event('new'));
    expect((await log.read('orders', null, 10)).entries.map((e) => e.event.id)).toEqual(['new']);
  });

  it('answers an offset of another epoch (the stream was lost) with truncated and the new log', async () => {
    const keys = new RedisKeys(`t${++n}`);
    const log = new RedisTopicLog({connection, keys, logger: pino({level: 'silent'})});
    const old = (await log.append('orders', event('a'))).offset;
    await admin.del([keys.stream('orders'), keys.meta('orders'), keys.seen('orders', 'a')]);
    const fresh = (await log.append('orders', event('b'))).offset;
    expect(fresh.split(':')[0]).not.toBe(old.split(':')[0]);
    expect(fresh.endsWith(':1')).toBe(true);
    const page = await log.read('orders', old, 10);
    expect(page.truncated).toBe(true);
    expect(page.entries.map((e) => e.event.id)).toEqual(['b']);
  });

  it('announces each append with its offset to every watcher', async () => {
    const log = logOf();
    const heard: AppendedEvent[] = [];
    const stop = log.watch({appended: (e) => void heard.push(e)});
    await new Promise((r) => setTimeout(r, 50));
    const {offset} = await log.append('orders', event('x'));
    const deadline = Date.now() + 5000;
    while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop();
    // The stored text rides along, so a hub forwards it without parsing and re-serializing it.
    expect(heard).toEqual([{topic: 'orders', offset, event: event('x'), json: JSON.stringify(event('x'))}]);
  });
});
