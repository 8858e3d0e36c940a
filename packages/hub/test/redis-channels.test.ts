import * as signalR from '@microsoft/signalr';
import {createClient} from 'redis';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, orderPlaced, postEvent} from './helpers.js';
import {recordEvents, startNode, until} from './redis-nodes.js';
import {startRedis, type RedisServer} from './redis-server.js';

let redis: RedisServer;
let observer: ReturnType<typeof createClient>;
beforeAll(async () => {
  // appendfsync always, so the topic's stream survives the restart below.
  redis = await startRedis({aof: 'always'});
});
afterAll(async () => {
  await redis.stop();
});

const servers: SwitchboardServer[] = [];
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  if (observer?.isOpen) observer.destroy();
});

/** How many subscriber connections listen on `channel`, asked of Redis by a separate client. */
async function numsub(channel: string): Promise<number> {
  if (!observer?.isOpen) {
    observer = createClient({url: redis.url});
    observer.on('error', () => {});
    await observer.connect();
  }
  const reply = (await observer.sendCommand(['PUBSUB', 'NUMSUB', channel])) as Array<string | number>;
  return Number(reply[1]);
}

/** Resolves once `numsub(channel)` is `n`. */
async function listeners(channel: string, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let now = await numsub(channel); now !== n; now = await numsub(channel)) {
    if (Date.now() > deadline) throw new Error(`${channel} has ${now} subscribers, not ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function connect(url: string, token?: string): Promise<signalR.HubConnection> {
  const c = client(url, {transport: signalR.HttpTransportType.WebSockets, ...(token === undefined ? {} : {accessTokenFactory: () => token})});
  opened.push(c);
  await c.start();
  return c;
}

describe('per-channel subscriptions on Redis', () => {
  it('a node hears a topic only while it has a subscriber of it, and again after Redis restarts', async () => {
    const a = await startNode(redis.url, {prefix: 'ch1'});
    const b = await startNode(redis.url, {prefix: 'ch1'});
    servers.push(a.server, b.server);
    const channel = 'ch1:topic:orders';
    const heardByA = (): number => a.engine.connection.received;

    // Only B has a subscriber: A receives none of the topic's messages.
    const onB = await connect(b.url);
    const gotB = recordEvents(onB);
    await onB.invoke('subscribe', 'orders', null);
    expect(await numsub(channel)).toBe(1);
    const before = heardByA();
    for (let i = 0; i < 20; i++) expect((await postEvent(b.url, 'orders', orderPlaced({id: `e-${i}`}))).status).toBe(202);
    await until(() => gotB.length === 20);
    expect(heardByA() - before).toBe(0);
    expect(a.engine.connection.channels.has(channel)).toBe(false);

    // A subscriber joins on A: A subscribes the topic's channel and hears its events.
    const onA = await connect(a.url);
    const gotA = recordEvents(onA);
    await onA.invoke('subscribe', 'orders', null);
    expect(await numsub(channel)).toBe(2);
    for (let i = 20; i < 30; i++) await postEvent(b.url, 'orders', orderPlaced({id: `e-${i}`}));
    await until(() => gotA.length === 10);
    expect(heardByA() - before).toBe(10);

    // Redis restarts: both nodes re-subscribe by themselves, and A's subscriber gets what follows.
    await redis.kill();
    await redis.restart();
    await listeners(channel, 2);
    for (let i = 30; i < 35; i++) {
      const posted = async (): Promise<boolean> => (await postEvent(b.url, 'orders', orderPlaced({id: `e-${i}`}))).status === 202;
      // B's command connection may still be reconnecting: a 503 is a refusal, retried.
      const deadline = Date.now() + 10_000;
      while (!(await posted())) {
        if (Date.now() > deadline) throw new Error('publishing did not resume');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await until(() => gotA.length === 15);
    expect(gotA).toEqual(Array.from({length: 15}, (_, i) => `e-${i + 20}`));

    // The last subscriber on A leaves: A unsubscribes the topic's channel.
    await onA.invoke('unsubscribe', 'orders');
    await listeners(channel, 1);
    const after = heardByA();
    await postEvent(b.url, 'orders', orderPlaced({id: 'e-35'}));
    await until(() => gotB.length === 36);
    expect(heardByA() - after).toBe(0);
  }, 60_000);

  it('loses nothing between subscribing to a topic channel and reading the log, each time a node starts hearing the topic anew', async () => {
    const a = await startNode(redis.url, {prefix: 'ch3'});
    const b = await startNode(redis.url, {prefix: 'ch3'});
    servers.push(a.server, b.server);
    const published: Array<{id: string; offset: string}> = [];
    let running = true;
    const publishing = (async () => {
      for (let n = 0; running; n++) {
        const id = `e-${n}`;
        const posted = await postEvent(b.url, 'orders', orderPlaced({id}));
        published.push({id, offset: ((await posted.json()) as {offset: string}).offset});
      }
    })();
    await until(() => published.length >= 5);
    // Five times: A has no subscriber of the topic (so no channel), then one subscribes from an offset mid-stream.
    for (let round = 0; round < 5; round++) {
      await listeners('ch3:topic:orders', 0);
      const from = published.at(-1)!;
      const onA = await connect(a.url);
      const got = recordEvents(onA);
      await onA.invoke('subscribe', 'orders', from.offset);
      const start = published.findIndex((p) => p.id === from.id) + 1;
      await until(() => published.length >= start + 20 && got.length >= published.length - start - 5);
      const upTo = got.length;
      expect(got).toEqual(published.slice(start, start + upTo).map((p) => p.id));
      await onA.stop();
      opened.splice(opened.indexOf(onA), 1);
    }
    running = false;
    await publishing;
  }, 60_000);

  it('subscribes a connection, group and user channel while a local connection needs it, and the all and return channels always', async () => {
    const a = await startNode(redis.url, {prefix: 'ch2'});
    servers.push(a.server);
    expect(await numsub('ch2:hub:all')).toBe(1);
    expect(await numsub(`ch2:hub:return:${a.engine.backplane.node}`)).toBe(1);
    const ann = await connect(a.url, 'ann');
    const id = (await ann.invoke('whoami')) as string;
    await ann.invoke('join', 'tea');
    expect(await numsub(`ch2:hub:connection:${id}`)).toBe(1);
    expect(await numsub('ch2:hub:group:tea')).toBe(1);
    expect(await numsub('ch2:hub:user:ann')).toBe(1);
    expect(await numsub('ch2:hub:group:coffee')).toBe(0);
    await ann.stop();
    await listeners(`ch2:hub:connection:${id}`, 0);
    await listeners('ch2:hub:group:tea', 0);
    await listeners('ch2:hub:user:ann', 0);
    expect(await numsub('ch2:hub:all')).toBe(1);
  });
});
