import type * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {asyncTopicLog, MemoryTopicLog, type LogWatcher, type SwitchboardServer, type TopicLog} from '../src/index.js';
import {client, offsetAt, orderPlaced, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

/** A client that records the ids of the events it receives, in order. */
async function subscriber(url: string): Promise<{connection: signalR.HubConnection; ids: string[]}> {
  const connection = client(url);
  opened.push(connection);
  const ids: string[] = [];
  connection.on('event', ({event}: {event: {id: string}}) => void ids.push(event.id));
  await connection.start();
  return {connection, ids};
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ids = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `e-${from + i}`);

/**
 * A log whose feed misbehaves like a shared engine's: `lose(n)` says whether the live message of
 * the n-th append is lost; `delayMs` makes the rest arrive late (after a replay may have read them).
 */
function unreliableFeed(log: TopicLog, lose: (n: number) => boolean, delayMs = 0): TopicLog {
  return {
    ...log,
    watch(watcher: LogWatcher) {
      let n = 0;
      return log.watch({
        appended: (e) => {
          if (lose(n++)) return;
          if (delayMs === 0) watcher.appended(e);
          else setTimeout(() => watcher.appended(e), delayMs);
        },
      });
    },
  };
}

describe('subscribe with an offset over an asynchronous log', () => {
  it('replays 5,000 events while publishing goes on, with no gap and no duplicate', async () => {
    let url: string;
    ({server, url} = await startServer());
    for (let n = 0; n < 5000; n++) await server.events.publish('orders', orderPlaced({id: `e-${n}`}));
    const {connection, ids: got} = await subscriber(url);
    let published = 5000;
    let publishing = true;
    const during = (async () => {
      while (publishing) {
        await server!.events.publish('orders', orderPlaced({id: `e-${published++}`}));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const result = (await connection.invoke('subscribe', 'orders', offsetAt(server, 0))) as {truncated: boolean};
    publishing = false;
    await during;
    // Events published while the replay ran prove it yielded the event loop between pages.
    expect(published).toBeGreaterThan(5000);
    expect(result.truncated).toBe(false);
    await until(() => got.length >= published);
    expect(got).toEqual(ids(0, published));
  });

  it('reads back live events the feed lost, so subscribers get every event in order', async () => {
    let url: string;
    const log = unreliableFeed(asyncTopicLog(new MemoryTopicLog()), (n) => n % 7 === 3);
    ({server, url} = await startServer({log}));
    const {connection, ids: got} = await subscriber(url);
    await connection.invoke('subscribe', 'orders', null);
    // The first event sets the feed's position; after it, every lost one leaves a gap read back from the log.
    for (let n = 0; n < 100; n++) await server.events.publish('orders', orderPlaced({id: `e-${n}`}));
    await until(() => got.length >= 98);
    await new Promise((r) => setTimeout(r, 50));
    // The last lost one (e-94) is read back once e-95 shows the gap; e-99 is delivered itself.
    expect(got).toEqual(ids(0, 100));
  });

  it('skips live events that arrive after a replay already sent them', async () => {
    let url: string;
    const memory = new MemoryTopicLog();
    const log = unreliableFeed(asyncTopicLog(memory), () => false, 30);
    ({server, url} = await startServer({log}));
    const early = await subscriber(url);
    await early.connection.invoke('subscribe', 'orders', null);
    for (let n = 0; n < 20; n++) await server.events.publish('orders', orderPlaced({id: `e-${n}`}));
    // Replays up to e-19 before the late live messages of e-0…e-19 come in.
    const late = await subscriber(url);
    await late.connection.invoke('subscribe', 'orders', `${memory.epoch}:0`);
    for (let n = 20; n < 40; n++) await server.events.publish('orders', orderPlaced({id: `e-${n}`}));
    await until(() => late.ids.length >= 40 && early.ids.length >= 40);
    await new Promise((r) => setTimeout(r, 100));
    expect(late.ids).toEqual(ids(0, 40));
    expect(early.ids).toEqual(ids(0, 40));
  });
});
