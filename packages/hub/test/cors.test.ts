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

describe('origin allowlist', () => {
  /** A raw HTTP/1.1 request with exactly these headers (fetch would not let a test set Host). */
  async function raw(url: string, lines: string[]): Promise<number> {
    const {port} = new URL(url);
    const {connect} = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
      let text = '';
      socket.on('data', (d) => {
        text += String(d);
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (m !== null) {
          resolve(Number(m[1]));
          socket.destroy();
        }
      });
      socket.on('error', reject);
    });
  }

  /** The whole answer to a raw request that ends with `Connection: close`. */
  async function rawText(url: string, lines: string[]): Promise<string> {
    const {connect} = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
      let text = '';
      socket.on('data', (d) => (text += String(d)));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  }

  it('refuses a rebound DNS name: Host evil.example with Origin http://evil.example, WebSocket and HTTP alike', async () => {
    const url = await setup();
    const {port} = new URL(url);
    const upgrade = (host: string, origin: string) =>
      raw(url, ['GET /hubs/events HTTP/1.1', `Host: ${host}`, `Origin: ${origin}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    expect(await upgrade('evil.example', 'http://evil.example')).toBe(403);
    expect(await upgrade(`evil.example:${port}`, `http://evil.example:${port}`)).toBe(403);
    expect(await upgrade(`localhost:${port}`, `http://localhost:${port}`)).toBe(101);
    const post = (host: string, origin: string) =>
      raw(url, ['POST /api/topics/orders/events HTTP/1.1', `Host: ${host}`, `Origin: ${origin}`, 'Content-Type: text/plain', 'Content-Length: 2', 'Connection: close', '', '{}']);
    expect(await post(`evil.example:${port}`, `http://evil.example:${port}`)).toBe(403);
    expect(await post(`localhost:${port}`, `http://localhost:${port}`)).toBe(415);
  });

  it('refuses any request whose Host is a foreign name, with or without Origin (a rebound page reads same-origin GETs without one)', async () => {
    const url = await setup();
    const {port} = new URL(url);
    const get = (host: string) => raw(url, ['GET /api/topics/orders/events HTTP/1.1', `Host: ${host}`, 'Connection: close']);
    const upgrade = (host: string) =>
      raw(url, ['GET /hubs/events HTTP/1.1', `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    expect(await get(`evil.example:${port}`)).toBe(403);
    expect(await upgrade(`evil.example:${port}`)).toBe(403);
    // The refusal says what to configure.
    expect(await rawText(url, ['GET /api/orders HTTP/1.1', 'Host: evil.example', 'Connection: close'])).toMatch(/^HTTP\/1\.1 403[\s\S]*PUBLIC_HOSTS/);
    // Loopback names and IP literals are never a rebound name.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`]) {
      expect(await get(host)).not.toBe(403);
    }
    expect(await upgrade(`127.0.0.1:${port}`)).toBe(101);
    // Liveness stays reachable by whatever name a probe uses.
    expect(await raw(url, ['GET /healthz HTTP/1.1', 'Host: pod-7.internal', 'Connection: close'])).toBe(200);
  });

  it('accepts configured public hosts and, with publicHosts [*], any Host', async () => {
    ({server} = await startServer({cors: {origins: [], publicHosts: ['shop.example']}}));
    let url = `http://127.0.0.1:${server.port}`;
    const get = (host: string) => raw(url, ['GET /api/topics/orders/events HTTP/1.1', `Host: ${host}`, 'Connection: close']);
    expect(await get('shop.example')).not.toBe(403);
    expect(await get('evil.example')).toBe(403);
    await server.close();
    ({server} = await startServer({cors: {origins: [], publicHosts: ['*']}}));
    url = `http://127.0.0.1:${server.port}`;
    expect(await get('evil.example')).not.toBe(403);
  });

  it('honours configured public hosts', async () => {
    ({server} = await startServer({cors: {origins: [], publicHosts: ['shop.example']}}));
    const url = `http://127.0.0.1:${server.port}`;
    const preflight = (host: string, origin: string) =>
      raw(url, ['OPTIONS /api/topics/orders/events HTTP/1.1', `Host: ${host}`, `Origin: ${origin}`, 'Access-Control-Request-Method: POST', 'Connection: close']);
    expect(await preflight('shop.example', 'http://shop.example')).toBe(204);
    expect(await preflight(`localhost:${server.port}`, `http://localhost:${server.port}`)).toBe(403);
  });

  it('with drills on, a cross-origin simple POST cannot drop a connection', async () => {
    let url: string;
    ({server, url} = await startServer({cors: {origins: [ALLOWED]}, drills: true}));
    const {client} = await import('./helpers.js');
    const connection = client(url);
    await connection.start();
    try {
      const id = connection.connectionId!;
      const response = await fetch(`${url}/api/connections/${id}/drop?mode=abort`, {
        method: 'POST',
        headers: {origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded'},
        body: 'x=1',
      });
      expect(response.status).toBe(403);
      expect(server.hub.connection(id)?.phase).toBe('open');
      expect(await connection.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
    } finally {
      await connection.stop();
    }
  });
});
