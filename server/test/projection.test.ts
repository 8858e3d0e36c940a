/**
 * projection() (@switchboard/signalr) over the official client against the hub: a read model that
 * starts from a snapshot with offsets and continues from exactly there, while events keep coming.
 */
import * as signalR from '@microsoft/signalr';
import {Bus} from '@switchboard/bus';
import {createEnvelope, type Envelope} from '@switchboard/contracts';
import {OrderPlaced, shopRegistry, shopTopics} from '@switchboard/shop-contracts';
import {HubBridge, projection, type Snapshot} from '@switchboard/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '@switchboard/hub';
import {startServer, logOf, sleep, until} from './helpers';

let server: SwitchboardServer | undefined;
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await server?.close();
  server = undefined;
});


const order = (n: number): Envelope => createEnvelope(OrderPlaced, {orderId: `o-${n}`, sku: 'tea-sencha', quantity: 1}, {source: 'test', id: `e-${n}`});

function bridge(url: string): HubBridge {
  const bus = new Bus({registry: shopRegistry(), onReject: () => {}, onDeadLetter: () => {}});
  const hub = new HubBridge({url: `${url}/hubs/events`, bus, topics: shopTopics, storage: undefined, logLevel: signalR.LogLevel.None, log: false});
  hub.connection.serverTimeoutInMilliseconds = 5_000;
  hub.connection.keepAliveIntervalInMilliseconds = 1_000;
  stops.push(() => hub.stop());
  return hub;
}

/**
 * The snapshot of a read model that lists every event id of the topic, made as an HTTP read model
 * would be: some time after the page asked (events the page receives meanwhile are in it), right
 * after a burst of events (still on their way to the page when the answer arrives).
 */
function snapshotOf(topic: string, delayMs: () => number, loads: {count: number}, burst: () => void): () => Promise<Snapshot<string[]>> {
  return async () => {
    loads.count++;
    await sleep(delayMs());
    burst();
    const ids = logOf(server!).read(topic, null, 100_000).entries.map((e) => e.event.id);
    return {state: ids, offsets: {[topic]: logOf(server!).head(topic)}};
  };
}

describe('projection', () => {
  it('starts from the snapshot and continues from its offset: every event once, in order, while events keep coming', async () => {
    let url: string;
    ({server, url} = await startServer({hub: {keepAliveIntervalMs: 1000}}));
    let published = 0;
    for (; published < 20; published++) server.events.publish('orders', order(published));
    let running = true;
    const publishing = (async () => {
      while (running) {
        server!.events.publish('orders', order(published++));
        await sleep(Math.random() * 4);
      }
    })();
    const hub = bridge(url);
    await hub.start();
    const loads = {count: 0};
    const applied: string[] = [];
    const p = projection<string[]>({
      hub,
      topics: ['orders'],
      snapshot: snapshotOf('orders', () => 20 + Math.random() * 30, loads, () => {
        for (let i = 0; i < 5; i++) server!.events.publish('orders', order(published++));
      }),
      apply: (ids, e) => (applied.push(e.id), [...ids, e.id]),
      onState: () => {},
    });
    stops.push(() => p.stop());
    await p.ready;
    await sleep(200);
    running = false;
    await publishing;
    const all = logOf(server).read('orders', null, 100_000).entries.map((e) => e.event.id);
    await until(() => p.state!.length === all.length);
    expect(p.state).toEqual(all);
    // Some events came live after the snapshot, and none of them twice.
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    expect(loads.count).toBe(1);
  });

  it('loads the snapshot again after the connection is replaced, and still misses nothing', async () => {
    let url: string;
    ({server, url} = await startServer({hub: {keepAliveIntervalMs: 1000}}));
    let published = 0;
    const hub = bridge(url);
    await hub.start();
    const loads = {count: 0};
    const p = projection<string[]>({
      hub,
      topics: ['orders'],
      snapshot: snapshotOf('orders', () => Math.random() * 20, loads, () => {
        for (let i = 0; i < 5; i++) server!.events.publish('orders', order(published++));
      }),
      apply: (ids, e) => [...ids, e.id],
      onState: () => {},
    });
    stops.push(() => p.stop());
    await p.ready;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) server.events.publish('orders', order(published++));
      const id = hub.connection.connectionId!;
      const loadsBefore = loads.count;
      // Stopping the connection's transport without stateful reconnect's grace: the client reconnects anew.
      server.hub.closeConnection(server.hub.connection(id)!, 'drill', true);
      for (let i = 0; i < 10; i++) server.events.publish('orders', order(published++));
      await until(() => loads.count > loadsBefore && hub.status === 'connected').catch((error: unknown) => {
        throw new Error(`round ${round}: ${loads.count} loads, bridge ${hub.status}, client ${hub.connection.state}; ${String(error)}`);
      });
    }
    // The last load's snapshot publishes a burst too: compare with the log once it settled.
    const log = () => logOf(server!).read('orders', null, 100_000).entries.map((e) => e.event.id);
    await until(() => p.state!.length === log().length && hub.status === 'connected').catch(() => {
      throw new Error(`state ${p.state!.length} of ${log().length}; loads ${loads.count}`);
    });
    const all = log();
    expect(p.state).toEqual(all);
  });
});
