import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {upgradeStatus} from './raw-socket.js';
import {startServer} from './helpers.js';
import WebSocket from 'ws';

let server: SwitchboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ALLOWED = 'https://shop.example';

async function setup(): Promise<string> {
  let url: string;
  ({server, url} = await startServer({cors: {origins: [ALLOWED]}}));
  return url;
}

describe('CORS', () => {
  it('answers the SignalR browser client preflight for an allowed origin, echoing it with credentials', async () => {
    const url = await setup();
    const response = await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: {origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-requested-with,x-signalr-user-agent'},
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-headers')).toBe('x-requested-with,x-signalr-user-agent');
    const negotiate = await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST', headers: {origin: ALLOWED}});
    expect(negotiate.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('refuses a preflight from another origin and adds no CORS headers for it', async () => {
    const url = await setup();
    const preflight = await fetch(`${url}/api/topics/orders/events`, {
      method: 'OPTIONS',
      headers: {origin: 'https://evil.example', 'access-control-request-method': 'POST'},
    });
    expect(preflight.status).toBe(403);
    const plain = await fetch(`${url}/healthz`, {headers: {origin: 'https://evil.example'}});
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a WebSocket from a foreign page, accepts one from an allowed or the same origin', async () => {
    const url = await setup();
    const hub = `${url}/hubs/events`;
    const status = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(hub.replace('http', 'ws'), {origin});
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          resolve(101);
          ws.close();
        });
        ws.once('error', () => {});
      });
    expect(await status('https://evil.example')).toBe(403);
    expect(await status(ALLOWED)).toBe(101);
    expect(await status(url)).toBe(101);
    expect(await upgradeStatus(hub)).toBe(101);
  });
});
