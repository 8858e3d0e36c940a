import {createEnvelope} from '@switchboard/contracts';
import type * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {RateLimiter, type SwitchboardServer, type SwitchboardServerOptions} from '../src/index.js';
import {PlaceOrder} from './fixtures.js';
import {client, orderPlaced, postEvent, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const connections: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

async function setup(options: Partial<SwitchboardServerOptions>): Promise<string> {
  let url: string;
  ({server, url} = await startServer(options));
  server.events.handle(PlaceOrder, () => ({ok: true}));
  return url;
}

describe('rate limits', () => {
  it('a token bucket: burst at once, then perSecond, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({burst: 2, perSecond: 4}, () => now);
    expect(limiter.take('a')).toEqual({allowed: true});
    expect(limiter.take('a')).toEqual({allowed: true});
    expect(limiter.take('a')).toEqual({allowed: false, retryAfterMs: 250});
    expect(limiter.take('b')).toEqual({allowed: true});
    now = 250;
    expect(limiter.take('a')).toEqual({allowed: true});
  });

  it('remembers at most maxClients', () => {
    const limiter = new RateLimiter({burst: 1, perSecond: 1, maxClients: 3});
    for (let i = 0; i < 10; i++) limiter.take(`c${i}`);
    expect(limiter.size).toBe(3);
  });

  it('hub commands past the limit fail saying when to retry; server code is not limited', async () => {
    const url = await setup({commandRateLimit: {burst: 3, perSecond: 0.5}});
    const connection = client(url);
    connections.push(connection);
    await connection.start();
    const send = () => connection.invoke('command', createEnvelope(PlaceOrder, {sku: 'tea', quantity: 1}, {source: 'test'}));
    for (let i = 0; i < 3; i++) await expect(send()).resolves.toEqual({ok: true});
    await expect(send()).rejects.toThrow(/Rate limit: too many commands from this client; retry in \d+\.\d s/);
    await expect(server!.events.command(createEnvelope(PlaceOrder, {sku: 'tea', quantity: 1}, {source: 'test'}))).resolves.toEqual({ok: true});
  });

  it('HTTP publishes past publishRateLimit answer 429 with Retry-After', async () => {
    const url = await setup({publishRateLimit: {burst: 2, perSecond: 0.5}});
    expect((await postEvent(url, 't', orderPlaced())).status).toBe(202);
    expect((await postEvent(url, 't', orderPlaced())).status).toBe(202);
    const refused = await postEvent(url, 't', orderPlaced());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as {error: string}).error).toMatch(/retry in/);
  });
});
