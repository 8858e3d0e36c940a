import * as signalR from '@microsoft/signalr';
import {createEnvelope} from '@switchboard/contracts';
import {SignJWT} from 'jose';
import {afterEach, describe, expect, it} from 'vitest';
import {PlaceOrder} from '../fixtures.js';
import {startVictim, type Victim} from './victim.js';

const SECRET = 'command-flood-secret-of-at-least-32-bytes';
let victim: Victim | undefined;
const connections: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  await victim?.stop();
  victim = undefined;
});

function connect(url: string, token?: string): signalR.HubConnection {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets, ...(token === undefined ? {} : {accessTokenFactory: () => token})})
    .configureLogging(signalR.LogLevel.None)
    .build();
  connections.push(connection);
  return connection;
}

describe('hostile: an anonymous client sends commands as fast as it can', () => {
  it('is held to its rate limit with errors saying when to retry; another user is served; the process lives, memory stays bounded', {timeout: 60_000}, async () => {
    victim = await startVictim({jwtSecret: SECRET, placeOrders: true, commandRateLimit: {burst: 20, perSecond: 2}});
    const url = victim.url;
    const before = victim.rss();
    const flooder = connect(url);
    await flooder.start();
    const outcomes = await Promise.allSettled(
      Array.from({length: 500}, () => flooder.invoke('command', createEnvelope(PlaceOrder, {sku: 'tea', quantity: 1}, {source: 'flood'}))),
    );
    const served = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(served).toBeGreaterThanOrEqual(20);
    expect(served).toBeLessThan(40);
    expect(refused.every((o) => /retry in \d/.test(String(o.reason)))).toBe(true);
    const token = await new SignJWT({}).setProtectedHeader({alg: 'HS256'}).setSubject('alice').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
    const alice = connect(url, token);
    await alice.start();
    await expect(alice.invoke('command', createEnvelope(PlaceOrder, {sku: 'tea', quantity: 1}, {source: 'alice'}))).resolves.toMatchObject({orderId: expect.any(String)});
    expect(victim.alive).toBe(true);
    expect(await victim.healthy()).toBe(true);
    expect(victim.rss() - before).toBeLessThan(100 * 1024 * 1024);
  });
});
