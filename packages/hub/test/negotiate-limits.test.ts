import {setTimeout as sleep} from 'node:timers/promises';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {clientKey, ConnectionRegistry} from '../src/transports/connection-registry.js';
import {startServer} from './helpers.js';
import {upgradeStatus} from './raw-socket.js';

let server: SwitchboardServer | undefined;
let registry: ConnectionRegistry | undefined;

afterEach(async () => {
  registry?.close();
  await server?.close();
  server = registry = undefined;
});

async function setup(pendingConnections: {max?: number; perClient?: number; timeoutMs?: number}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({endpoint: {pendingConnections}}));
  return url;
}

const negotiate = (url: string) => fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'});

describe('negotiated connections not yet connected', () => {
  it('are capped per client: past its share a client evicts only its own oldest token, and is never refused', async () => {
    const url = await setup({max: 100, perClient: 3});
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await negotiate(url);
      expect(res.status).toBe(200);
      tokens.push(((await res.json()) as {connectionToken: string}).connectionToken);
    }
    // The two oldest were forgotten; the three newest still connect.
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(tokens[0]!)}`)).status).toBe(404);
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(tokens[1]!)}`)).status).toBe(404);
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(tokens[2]!)}`)).status).toBe(200);
    expect((await fetch(`${url}/hubs/events?id=${encodeURIComponent(tokens[4]!)}`)).status).toBe(200);
  });

  it('past the overall cap the largest holder loses its oldest token, not a small client', () => {
    registry = new ConnectionRegistry({max: 4, perClient: 4});
    const flood = Array.from({length: 4}, () => registry!.create({negotiateVersion: 1, client: 'addr:flooder'}));
    const mine = registry.create({negotiateVersion: 1, client: 'addr:me'});
    expect(registry.pending).toBe(4);
    expect(registry.pendingOf('addr:flooder')).toBe(3);
    expect(registry.get(flood[0]!.token)).toBeUndefined();
    expect(registry.get(mine.token)).toBe(mine);
    registry.create({negotiateVersion: 1, client: 'addr:flooder'});
    expect(registry.get(mine.token)).toBe(mine);
  });

  it('are accounted to the principal when there is one, else to the remote address', () => {
    expect(clientKey({userId: 'alice'}, '10.0.0.1')).toBe('user:alice');
    expect(clientKey(undefined, '10.0.0.1')).toBe('addr:10.0.0.1');
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
