import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {DEFAULT_COMMAND_TIMEOUT_MS, TopicLogUnavailableError, type RedisEngine, type SwitchboardServer} from '../src/index.js';
import {APPEND} from '../src/engines/redis/scripts.js';
import {client, orderPlaced, postEvent} from './helpers.js';
import {startNode, until} from './redis-nodes.js';
import {startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer | undefined;
let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  redis?.resume();
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  await redis?.stop();
  server = redis = undefined;
});

/** How long past the command timeout a refusal may come on a busy machine: a bound, not a measurement. */
const SLACK_MS = 2000;

/** Every event id stored in `topic`'s stream, read straight from Redis. */
async function storedIds(engine: RedisEngine, topic: string): Promise<string[]> {
  const entries = await engine.connection.command<Array<[string, string[]]>>(['XRANGE', engine.keys.stream(topic), '-', '+']);
  return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('d') + 1]!) as {id: string}).id);
}

async function health(url: string): Promise<{status: string; engine: {ok: boolean; commands: string}}> {
  return (await (await fetch(`${url}/healthz`)).json()) as {status: string; engine: {ok: boolean; commands: string}};
}

/** Runs `work` and resolves with how long it took to settle and how. */
async function timed<T>(work: Promise<T>): Promise<{ms: number; value?: T; error?: unknown}> {
  const start = Date.now();
  try {
    const value = await work;
    return {ms: Date.now() - start, value};
  } catch (error) {
    return {ms: Date.now() - start, error};
  }
}

describe('a paused Redis (SIGSTOP)', () => {
  it('refuses publishes within the command timeout, stores none of them when it wakes, serves other clients meanwhile, and resumes', async () => {
    redis = await startRedis();
    let url: string;
    let engine: RedisEngine;
    ({server, url, engine} = await startNode(redis.url));
    const publisher = client(url);
    opened.push(publisher);
    await publisher.start();
    expect((await postEvent(url, 'orders', orderPlaced({id: 'before'}))).status).toBe(202);

    redis.pause();
    // The first commands reach Redis's socket before anyone knows it is paused: Redis runs them when
    // it wakes. The server's own append goes first, straight to the append script; a client's
    // publish first asks whether the topic exists (its topic budget).
    const [own, http, hub] = await Promise.all([
      timed(server.events.append('orders', orderPlaced({id: 'paused-server'}))),
      timed(postEvent(url, 'orders', orderPlaced({id: 'paused-http'}))),
      timed(publisher.invoke('publish', 'orders', orderPlaced({id: 'paused-hub'}))),
    ]);
    expect(own.error).toBeInstanceOf(TopicLogUnavailableError);
    expect(String(own.error)).toMatch(/Redis did not answer within 1500 ms/);
    expect(own.ms).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + SLACK_MS);
    expect(http.value?.status).toBe(503);
    expect(http.value?.headers.get('retry-after')).toBe('1');
    expect(((await http.value!.json()) as {error: string}).error).toMatch(/event store is unavailable: Redis did not answer within 1500 ms; nothing was stored/);
    expect(http.ms).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + SLACK_MS);
    expect(String(hub.error)).toMatch(/The event store is unavailable \(Redis did not answer within 1500 ms\); nothing was done/);
    expect(hub.ms).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + SLACK_MS);

    // Now known to be stalled: further publishes are refused without sending Redis anything.
    for (const id of ['stalled-1', 'stalled-2', 'stalled-3']) {
      const answer = await postEvent(url, 'orders', orderPlaced({id}));
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as {error: string}).error).toMatch(/Redis is not answering \(Redis did not answer within 1500 ms, \d+ ms ago\); nothing was stored/);
    }
    await expect(server.events.append('orders', orderPlaced({id: 'stalled-server'}))).rejects.toThrow(/Redis is not answering/);
    const subscribing = await timed(publisher.invoke('subscribe', 'orders', null));
    expect(String(subscribing.error)).toMatch(/event store is unavailable/);
    expect(subscribing.ms).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + SLACK_MS);

    // Everything that does not need Redis goes on: health says why, and a new client negotiates, connects and is answered.
    expect(await health(url)).toMatchObject({status: 'degraded', engine: {ok: false, commands: 'stalled'}});
    const other = client(url);
    opened.push(other);
    await other.start();
    expect(typeof (await other.invoke('whoami'))).toBe('string');

    // Past the appends' deadlines, then awake: Redis now runs what it was sent, and the appends refuse.
    await new Promise((r) => setTimeout(r, 1000));
    redis.resume();
    await until(() => engine.connection.isReady, 10_000, 'Redis to answer again');
    expect((await health(url)).status).toBe('ok');
    expect(await storedIds(engine, 'orders')).toEqual(['before']);

    // After it: publishing works, and a retry of a refused publish is stored once.
    expect((await postEvent(url, 'orders', orderPlaced({id: 'after'}))).status).toBe(202);
    const retried = (await publisher.invoke('publish', 'orders', orderPlaced({id: 'paused-hub'}))) as {offset: string};
    expect(await publisher.invoke('publish', 'orders', orderPlaced({id: 'paused-hub'}))).toEqual(retried);
    expect(await storedIds(engine, 'orders')).toEqual(['before', 'after', 'paused-hub']);
  }, 30_000);

  it('an append that reaches Redis past its deadline stores nothing and says so', async () => {
    redis = await startRedis();
    let engine: RedisEngine;
    ({server, engine} = await startNode(redis.url));
    const {connection, keys} = engine;
    const append = (deadline: number, id: string) =>
      connection.script(
        APPEND,
        [keys.stream('t'), keys.meta('t'), keys.seen('t', id)],
        ['100', '0', keys.topicChannel('t'), 'e1', '60', String(Date.now()), String(deadline), JSON.stringify({id})],
      );
    await expect(append(connection.writeDeadline() - DEFAULT_COMMAND_TIMEOUT_MS * 2, 'late')).rejects.toThrow(/Redis ran the write after its deadline, so it stored nothing: the append ran \d+ ms after its deadline/);
    expect(await storedIds(engine, 't')).toEqual([]);
    expect(await connection.command(['EXISTS', keys.seen('t', 'late')])).toBe(0);
    await append(connection.writeDeadline(), 'in-time');
    expect(await storedIds(engine, 't')).toEqual(['in-time']);
    // The deadline leaves the caller a margin to hear the answer before it gives up.
    expect(connection.writeDeadline(1000)).toBeLessThanOrEqual(Date.now() + 800 + 5);
  });

  it('a command still unwritten when Redis stalls (its socket full) is dropped: refused, and never run when Redis wakes', async () => {
    redis = await startRedis();
    let engine: RedisEngine;
    ({server, engine} = await startNode(redis.url));
    const {connection} = engine;
    redis.pause();
    // 48 MB of values fill the kernel's socket buffers to the paused Redis; the marker queues behind them, unwritten.
    const filler = 'x'.repeat(1 << 20);
    const fills = Array.from({length: 48}, (_, i) => timed(connection.command(['SET', `fill-${i}`, filler])));
    const marker = timed(connection.command(['SET', 'marker', '1']));
    const settled = await Promise.all([...fills, marker]);
    expect(settled.every((r) => r.error instanceof TopicLogUnavailableError)).toBe(true);
    expect(String((await marker).error)).toMatch(/Redis did not (take a command|answer) within 1500 ms/);
    redis.resume();
    await until(() => engine.connection.isReady, 20_000, 'Redis to answer again');
    // Whatever reached Redis's socket ran when it woke; the marker, never written, did not.
    expect(await connection.command(['EXISTS', 'marker'])).toBe(0);
  }, 40_000);
});

describe('commands sharing an abort signal', () => {
  it('64 commands in one turn share one signal without a listener-leak warning', async () => {
    redis = await startRedis();
    let engine: RedisEngine;
    ({server, engine} = await startNode(redis.url));
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const replies = await Promise.all(Array.from({length: 64}, (_, i) => engine.connection.command(['SET', `shared-${i}`, String(i)])));
      expect(replies.every((r) => r === 'OK')).toBe(true);
      // Node emits the warning on a later tick.
      await new Promise((r) => setTimeout(r, 50));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  }, 30_000);
});
