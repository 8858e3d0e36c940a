import type * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {asyncTopicLog, MemoryTopicLog, type SwitchboardServer, type TopicLog} from '../src/index.js';
import {client, orderPlaced, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A log whose reads are counted and held until `open()`: each read takes its snapshot when it
 * starts (as a Redis read does) and answers later, so subscribers can arrive while one runs.
 */
function gatedLog(log: TopicLog): {log: TopicLog; reads: () => number; open: () => void} {
  let reads = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    log: {
      ...log,
      async read(topic, after, limit) {
        reads++;
        const page = await log.read(topic, after, limit);
        await gate;
        return page;
      },
    },
    reads: () => reads,
    open: () => release(),
  };
}

const ids = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `e-${from + i}`);

describe('clients resubscribing together from one offset', () => {
  it('share the replay reads, and each still gets what was appended before it joined', async () => {
    const memory = new MemoryTopicLog();
    const gated = gatedLog(asyncTopicLog(memory));
    let url: string;
    ({server, url} = await startServer({log: gated.log}));
    for (let n = 0; n < 10; n++) await server.events.publish('orders', orderPlaced({id: `e-${n}`}));
    // After the fifth event (e-4).
    const from = `${memory.epoch}:5`;
    const clients = await Promise.all(
      Array.from({length: 21}, async () => {
        const connection = client(url);
        opened.push(connection);
        const got: string[] = [];
        connection.on('event', ({event}: {event: {id: string}}) => void got.push(event.id));
        await connection.start();
        return {connection, got};
      }),
    );
    const [first, ...rest] = clients;
    const subscribed = [first!.connection.invoke('subscribe', 'orders', from)];
    await until(() => gated.reads() === 1);
    // Appended (and pushed live) after the first read took its snapshot but before the others
    // joined: only a read that starts after they joined holds it for them.
    await server.events.publish('orders', orderPlaced({id: 'e-10'}));
    subscribed.push(...rest.map((c) => c.connection.invoke('subscribe', 'orders', from)));
    await until(() => server!.hub.groupSize('topic:orders') === 21);
    gated.open();
    await Promise.all(subscribed);
    await server.events.publish('orders', orderPlaced({id: 'e-11'}));
    for (const c of clients) await until(() => c.got.length >= 7);
    for (const c of clients) expect(c.got).toEqual(ids(5, 12));
    // One read for the first, one (started once it ended) for the twenty who joined meanwhile.
    expect(gated.reads()).toBe(2);
  });
});
