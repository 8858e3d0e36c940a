import {setTimeout as sleep} from 'node:timers/promises';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {ConnectionRegistry} from '../src/transports/connection-registry.js';
import {startServer} from './helpers.js';
import {upgradeStatus} from './raw-socket.js';

let server: SwitchboardServer | undefined;
let registry: ConnectionRegistry | undefined;

afterEach(async () => {
  registry?.close();
  await server?.close();
  server = registry = undefined;
});

async function setup(pendingConnections: {max?: number; timeoutMs?: number}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({endpoint: {pendingConnections}}));
  return url;
}

const negotiate = (url: string) => fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'});

describe('negotiated connections not yet connected', () => {
  it('are capped: negotiate past the cap answers 429 naming the limit; connecting one frees a slot', async () => {
    const url = await setup({max: 3});
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push(((await (await negotiate(url)).json()) as {connectionToken: string}).connectionToken);
    const refused = await negotiate(url);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/at most 3, option pendingConnections\.max/);
    // A long poll claims one: it is connected now, no longer pending.
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(tokens[0]!)}`)).status).toBe(200);
    expect((await negotiate(url)).status).toBe(200);
  });

  it('an expired token is refused at once (404), over WebSocket and HTTP', async () => {
    const url = await setup({timeoutMs: 50});
    const {connectionToken: a} = (await (await negotiate(url)).json()) as {connectionToken: string};
    const {connectionToken: b} = (await (await negotiate(url)).json()) as {connectionToken: string};
    await sleep(120);
    expect(await upgradeStatus(`${url}/hubs/events?id=${encodeURIComponent(a)}`)).toBe(404);
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(b)}`)).status).toBe(404);
  });

  it('a fresh token still connects', async () => {
    const url = await setup({timeoutMs: 60_000});
    const {connectionToken} = (await (await negotiate(url)).json()) as {connectionToken: string};
    expect(await upgradeStatus(`${url}/hubs/events?id=${encodeURIComponent(connectionToken)}`)).toBe(101);
  });

  it('are reaped by a timer, without another negotiate', async () => {
    registry = new ConnectionRegistry({timeoutMs: 20});
    for (let i = 0; i < 5; i++) registry.create({negotiateVersion: 1});
    const claimed = registry.create({negotiateVersion: 1});
    registry.claim(claimed, 'LongPolling');
    expect(registry.pending).toBe(5);
    await expect.poll(() => registry!.pending, {timeout: 5_000}).toBe(0);
    expect(registry.size).toBe(1);
    expect(registry.get(claimed.token)).toBe(claimed);
  });
});
