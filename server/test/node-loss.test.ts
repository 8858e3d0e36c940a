import {createRequire} from 'node:module';
import {chromium, type Browser, type Page} from '@playwright/test';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCluster, type Cluster} from '../../scripts/cluster.js';
import {testServerArgs} from '../../scripts/test-servers.js';
import {CHROMIUM_ARGS, findChromium} from '../../scripts/chromium.js';
import {producerAccess} from './helpers';

const KILLS = 20;
const TOPIC = 'losstest';
const signalrBundle = createRequire(import.meta.url).resolve('@microsoft/signalr/dist/browser/signalr.js');

let cluster: Cluster;
let access: Awaited<ReturnType<typeof producerAccess>>;
let browser: Browser;
beforeAll(async () => {
  access = await producerAccess(TOPIC);
  [cluster, browser] = await Promise.all([startCluster({env: access.env, serverArgs: testServerArgs('demo-server')}), chromium.launch({executablePath: findChromium(), args: CHROMIUM_ARGS})]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A page on the balancer with the official browser client: it records what it receives and resubscribes from its last offset after a reconnect. */
async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${cluster.url}/healthz`);
  await page.addScriptTag({path: signalrBundle});
  await page.evaluate(async (topic) => {
    const w = window as unknown as Record<string, unknown> & {signalR: typeof import('@microsoft/signalr')};
    const signalR = w.signalR;
    const received: string[] = [];
    let lastOffset: string | null = null;
    w['received'] = received;
    w['state'] = 'starting';
    const c = new signalR.HubConnectionBuilder()
      .withUrl('/hubs/events', {transport: signalR.HttpTransportType.WebSockets})
      .withAutomaticReconnect({nextRetryDelayInMilliseconds: () => 200})
      .configureLogging(signalR.LogLevel.None)
      .build();
    c.on('event', ({offset, event}: {offset: string; event: {id: string}}) => {
      received.push(event.id);
      lastOffset = offset;
    });
    c.onreconnecting(() => (w['state'] = 'reconnecting'));
    c.onreconnected(async () => {
      await c.invoke('subscribe', topic, lastOffset);
      w['state'] = 'connected';
    });
    c.onclose(() => (w['state'] = 'closed'));
    w['connectionId'] = () => c.connectionId;
    await c.start();
    await c.invoke('subscribe', topic, null);
    w['state'] = 'connected';
  }, TOPIC);
  return page;
}

describe('node loss behind the balancer', () => {
  it(`a page's received sequence equals the published one across ${KILLS} kill -9 of the node it is connected to`, async () => {
    const page = await openPage();
    const received = () => page.evaluate(() => (window as unknown as {received: string[]}).received.length);
    const state = () => page.evaluate(() => (window as unknown as {state: string}).state);
    const connectionId = () => page.evaluate(() => (window as unknown as {connectionId: () => string | null}).connectionId());

    // A steady publisher through the balancer: each event retried with its id until acknowledged.
    const published: string[] = [];
    let running = true;
    const publishing = (async () => {
      for (let n = 0; running; n++) {
        const id = `e-${n}`;
        const body = JSON.stringify({id, type: 'order.placed', version: 1, time: new Date().toISOString(), source: 'test', correlationId: 'loss', data: {orderId: `o-${n}`, sku: 'tea-sencha', quantity: 1}});
        for (;;) {
          const status = await fetch(`${cluster.url}/api/topics/${TOPIC}/events`, {method: 'POST', headers: access.headers, body})
            .then((r) => r.status)
            .catch(() => 0);
          if (status === 202) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        published.push(id);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    for (let kill = 0; kill < KILLS; kill++) {
      const before = await received();
      await until(async () => (await state()) === 'connected' && (await received()) > before + 5, 30_000, `events flowing before kill ${kill + 1}`);
      const id = await connectionId();
      let victim: string | undefined;
      for (const node of cluster.nodes) {
        const r = await fetch(`${node.url}/api/connections/${encodeURIComponent(id ?? '')}`).catch(() => undefined);
        if (r?.status === 200) victim = node.name;
      }
      expect(victim, `the node holding connection ${id}`).toBeDefined();
      await cluster.kill(victim!);
      // The killed node starts again at once, as a supervisor would restart it, while the page
      // reconnects (almost always to the other node; now and then to the restarted one, a recovery
      // just as valid): waiting for the reconnect first spent a node's start-up per kill doing nothing else.
      const restarted = cluster.restart(victim!);
      await until(async () => (await state()) === 'connected' && (await connectionId()) !== id, 30_000, `reconnect after kill ${kill + 1}`);
      await restarted;
    }
    running = false;
    await publishing;
    await until(async () => (await received()) >= published.length, 30_000, 'the page to catch up');
    await new Promise((r) => setTimeout(r, 300));
    const got = await page.evaluate(() => (window as unknown as {received: string[]}).received);
    console.log(`node loss: ${KILLS} kills, ${published.length} events published, ${got.length} received`);
    expect(got.length).toBe(published.length);
    expect(got).toEqual(published);
  }, 600_000);
});
