/**
 * The page bridge against a hub that requires tokens (no anonymous access): it connects with the
 * token its `accessTokenFactory` gives, is refused without one, reconnects with a fresh token when
 * the server closes the connection at the token's expiry, and its `fetch` carries the token to the
 * HTTP API.
 */
import {Bus} from '@switchboard/bus';
import {jwtAuthenticator, type SwitchboardServer} from '@switchboard/hub';
import {OrderPlaced} from '@switchboard/shop-contracts';
import {ConnectionChanged, HubBridge, tokenFromUrl, type AccessTokenFactory, type HubBridgeOptions, type TransportName} from '@switchboard/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {mintToken} from '../../scripts/token';
import {pageTokenRoute} from '../src/page-tokens';
import {orderEvent, quietBus, shopBridge, startServer, until} from './helpers';

const SECRET = 'bridge-auth-test-secret-of-at-least-32-bytes';

let server: SwitchboardServer | undefined;
const bridges: HubBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await server?.close();
  server = undefined;
});

/** A hub that lets nobody in without a valid token. */
async function strictServer(): Promise<string> {
  let url: string;
  ({server, url} = await startServer({endpoint: {authenticate: jwtAuthenticator({secret: SECRET})}}));
  return url;
}

function bridge(url: string, bus: Bus, options: Partial<HubBridgeOptions> = {}, transport?: TransportName): HubBridge {
  const b = shopBridge(url, bus, options, transport);
  bridges.push(b);
  return b;
}

const order = orderEvent;

/** A factory that counts its calls; the first token lives `firstTtl` seconds, later ones an hour. */
function counting(firstTtl = 3600): AccessTokenFactory & {calls: number} {
  const factory = Object.assign(() => mintToken(SECRET, {sub: 'page-user', ttlSeconds: factory.calls++ === 0 ? firstTtl : 3600}), {calls: 0});
  return factory;
}

describe('the page bridge with tokens required', () => {
  it('connects with the token of its accessTokenFactory and receives the topic', async () => {
    const url = await strictServer();
    const bus = quietBus();
    const received: string[] = [];
    bus.subscribe(OrderPlaced, (e) => void received.push(e.id));
    const tokens = counting();
    const hub = bridge(url, bus, {accessTokenFactory: tokens});
    await hub.start();
    expect(hub.status).toBe('connected');
    expect(tokens.calls).toBeGreaterThanOrEqual(1);
    expect(server!.hub.connection(hub.connection.connectionId!)?.userId).toBe('page-user');
    await until(() => server!.hub.groupSize('topic:orders') === 1);
    await server!.events.publish('orders', order(1));
    await until(() => received.length === 1);
    expect(received).toEqual(['e-1']);
  });

  it('is refused without a token', async () => {
    const url = await strictServer();
    const statuses: string[] = [];
    const bus = quietBus();
    bus.subscribe(ConnectionChanged, (e) => void statuses.push(e.data.status));
    const hub = bridge(url, bus, {reconnect: {maxAttempts: 1, refusedDelayMs: 0}});
    await expect(hub.start()).rejects.toThrow(/401|Unauthorized/);
    expect(hub.status).toBe('offline');
    expect(statuses).not.toContain('connected');
    expect(server!.hub.connectionCount).toBe(0);
  });

  it('is refused when the factory fails, and says why', async () => {
    const url = await strictServer();
    const hub = bridge(url, quietBus(), {reconnect: {maxAttempts: 1}, accessTokenFactory: () => Promise.reject(new Error('login expired'))});
    await expect(hub.start()).rejects.toThrow('login expired');
    expect(server!.hub.connectionCount).toBe(0);
  });

  it.each(['WebSockets', 'ServerSentEvents', 'LongPolling'] as const)(
    'reconnects with a fresh token when the first one expires, missing no event (%s)',
    async (transport) => {
      const url = await strictServer();
      const bus = quietBus();
      const received: string[] = [];
      bus.subscribe(OrderPlaced, (e) => void received.push(e.id));
      const statuses: string[] = [];
      bus.subscribe(ConnectionChanged, (e) => void statuses.push(e.data.status), {replay: false});
      // JWT expiry has second resolution: the first token lives 1–2 s, every later one an hour.
      const tokens = counting(2);
      const hub = bridge(url, bus, {accessTokenFactory: tokens}, transport);
      await hub.start();
      const first = hub.connection.connectionId;
      await until(() => server!.hub.groupSize('topic:orders') === 1);
      await server!.events.publish('orders', order(1));
      // The server closes the connection at the token's expiry; the client asks the factory again.
      await until(() => hub.status === 'connected' && hub.connection.connectionId !== first && hub.connection.connectionId !== null, 15_000);
      expect(tokens.calls).toBeGreaterThanOrEqual(2);
      expect(statuses).toContain('reconnecting');
      // The new connection follows the topic again. (Over long polling the old one may linger on the
      // server up to its disconnect timeout: the client's DELETE carries the expired token and is refused.)
      const now = hub.connection.connectionId!;
      await until(() => server!.hub.connection(now)?.groups.has('topic:orders') === true);
      await server!.events.publish('orders', order(2));
      await until(() => received.length === 2);
      expect(received).toEqual(['e-1', 'e-2']);
      expect(server!.hub.connection(now)?.userId).toBe('page-user');
    },
    30_000,
  );

  it('sends the token with fetch: the latest one, a fresh one when it expires within 5 s, and a fresh one after a 401', async () => {
    // Opaque tokens the server can revoke, so the cached one is refused although nothing says it expired.
    const valid = new Set<string>();
    let closed = false;
    let url: string;
    ({server, url} = await startServer({endpoint: {authenticate: ({token}) => (!closed && token !== undefined && valid.has(token) ? {userId: 'page-user'} : null)}}));
    let minted = 0;
    const opaque = Object.assign(() => {
      const token = `opaque-${++minted}`;
      valid.add(token);
      return token;
    }, {});
    const hub = bridge(url, quietBus(), {accessTokenFactory: opaque});
    const events = `${url}/api/topics/orders/events`;
    expect((await fetch(events)).status).toBe(401);
    expect((await hub.fetch(events)).status).toBe(200);
    expect((await hub.fetch(events)).status).toBe(200);
    expect(minted).toBe(1);
    valid.delete('opaque-1');
    const response = await hub.fetch(events, {headers: {accept: 'application/json'}});
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({events: []});
    expect(minted).toBe(2);
    // Tokens the server refuses although fresh: one retry, then the 401 is the answer.
    closed = true;
    expect((await hub.fetch(events)).status).toBe(401);
    expect(minted).toBe(3);
    // Without a factory it is plain fetch.
    expect((await bridge(url, quietBus()).fetch(events)).status).toBe(401);
  });

  it('asks for a fresh token instead of sending a JWT that expires within 5 s', async () => {
    const url = await strictServer();
    const tokens = counting(3);
    const hub = bridge(url, quietBus(), {accessTokenFactory: tokens});
    expect((await hub.fetch(`${url}/api/topics/orders/events`)).status).toBe(200);
    expect((await hub.fetch(`${url}/api/topics/orders/events`)).status).toBe(200);
    expect(tokens.calls).toBe(2);
    expect((await hub.fetch(`${url}/api/topics/orders/events`)).status).toBe(200);
    expect(tokens.calls).toBe(2);
  });
});

const subjectOf = (jwt: string): unknown => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {sub?: unknown}).sub;

describe('the demo server\'s page token route', () => {
  it('issues short-lived tokens the hub accepts, or says none are needed, or how to turn them on', async () => {
    const url = await strictServer();
    server!.addRoutes(pageTokenRoute({authenticated: true, allowAnonymous: false, issue: {secret: SECRET, ttlSeconds: 60}}));
    const answer = await fetch(`${url}/auth/token`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const {token, expiresIn} = (await answer.json()) as {token: string; expiresIn: number};
    expect(expiresIn).toBe(60);
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: {authorization: `Bearer ${token}`}})).status).toBe(200);
    // The visitor cookie keeps the subject: every request of one hub connection must come from the same user.
    const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
    const again = (await (await fetch(`${url}/auth/token`, {headers: {cookie}})).json()) as {token: string};
    expect(subjectOf(again.token)).toBe(subjectOf(token));
    expect(subjectOf(((await (await fetch(`${url}/auth/token`)).json()) as {token: string}).token)).not.toBe(subjectOf(token));
    await server!.close();

    ({server} = await startServer());
    server.addRoutes(pageTokenRoute({authenticated: false, allowAnonymous: false}));
    expect((await fetch(`http://127.0.0.1:${server.port}/auth/token`)).status).toBe(204);
    await server.close();

    ({server} = await startServer({endpoint: {authenticate: jwtAuthenticator({secret: SECRET})}}));
    server.addRoutes(pageTokenRoute({authenticated: true, allowAnonymous: false}));
    const refused = await fetch(`http://127.0.0.1:${server.port}/auth/token`);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as {error: string}).error).toContain('PAGE_TOKEN_TTL');
  });
});

describe('tokenFromUrl', () => {
  it('reads {token} from 200, none from 204, and names the URL and status or the missing field otherwise', async () => {
    let url: string;
    ({server, url} = await startServer());
    server.addRoutes((_req, res, u) => {
      const answers: Record<string, () => void> = {
        '/t/ok': () => res.writeHead(200, {'content-type': 'application/json'}).end('{"token":"abc"}'),
        '/t/none': () => res.writeHead(204).end(),
        '/t/denied': () => res.writeHead(403).end(),
        '/t/odd': () => res.writeHead(200, {'content-type': 'application/json'}).end('{"access_token":"abc"}'),
        '/t/html': () => res.writeHead(200, {'content-type': 'text/html'}).end('<p>login</p>'),
      };
      const answer = answers[u.pathname];
      if (answer === undefined) return false;
      answer();
      return true;
    });
    expect(await tokenFromUrl(`${url}/t/ok`)()).toBe('abc');
    expect(await tokenFromUrl(`${url}/t/none`)()).toBe('');
    await expect(tokenFromUrl(`${url}/t/denied`)()).rejects.toThrow(`the token endpoint ${url}/t/denied answered 403`);
    await expect(tokenFromUrl(`${url}/t/odd`)()).rejects.toThrow('answered without a "token" string');
    await expect(tokenFromUrl(`${url}/t/html`)()).rejects.toThrow('answered without a "token" string');
  });
});

