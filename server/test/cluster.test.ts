import * as signalR from '@microsoft/signalr';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCluster, type Cluster} from '../../scripts/cluster.js';
import {testServerArgs} from '../../scripts/test-servers.js';
import {producerAccess} from './helpers';

let cluster: Cluster;
let access: Awaited<ReturnType<typeof producerAccess>>;
beforeAll(async () => {
  access = await producerAccess('orders');
  cluster = await startCluster({env: access.env, serverArgs: testServerArgs('demo-server')});
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const negotiate = (cookie?: string) =>
  fetch(`${cluster.url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST', headers: cookie === undefined ? {} : {cookie}});

describe('npm run cluster (Redis, two nodes, nginx)', () => {
  it('pins a client to the node that answered its negotiate, by cookie', async () => {
    const first = await negotiate();
    const cookie = /sbnode=([ab])/.exec(first.headers.get('set-cookie') ?? '')?.[0];
    expect(cookie).toMatch(/^sbnode=[ab]$/);
    for (let i = 0; i < 3; i++) {
      const again = await negotiate(cookie);
      const {connectionToken} = (await again.json()) as {connectionToken: string};
      // The token is known only to the node that made it: a long poll with the cookie reaches that node.
      const poll = await fetch(`${cluster.url}/hubs/events?id=${encodeURIComponent(connectionToken)}`, {headers: {cookie: cookie!}});
      expect(poll.status).toBe(200);
      expect(again.headers.get('set-cookie')).toContain(cookie!);
    }
  });

  it('delivers an event posted through the balancer to a client connected to either node', async () => {
    const clients = cluster.nodes.map((node) =>
      new signalR.HubConnectionBuilder()
        .withUrl(`${node.url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true})
        .configureLogging(signalR.LogLevel.None)
        .build(),
    );
    try {
      const got = clients.map((c) => {
        const ids: string[] = [];
        c.on('event', ({event}: {event: {id: string}}) => void ids.push(event.id));
        return ids;
      });
      for (const c of clients) {
        await c.start();
        await c.invoke('subscribe', 'orders', null);
      }
      const envelope = {id: 'via-nginx', type: 'order.placed', version: 1, time: new Date().toISOString(), source: 'test', correlationId: 'c-1', data: {orderId: 'o-nginx', sku: 'tea-sencha', quantity: 1}};
      const response = await fetch(`${cluster.url}/api/topics/orders/events`, {method: 'POST', headers: access.headers, body: JSON.stringify(envelope)});
      expect(response.status).toBe(202);
      const deadline = Date.now() + 10_000;
      while (got.some((ids) => !ids.includes('via-nginx')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      // Once each (the shop's services add their own events to the topic after it).
      for (const ids of got) expect(ids.filter((id) => id === 'via-nginx')).toEqual(['via-nginx']);
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
    }
  });
});
