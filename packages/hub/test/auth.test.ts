import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Writable} from 'node:stream';
import * as signalR from '@microsoft/signalr';
import {exportJWK, generateKeyPair, SignJWT} from 'jose';
import {pino} from 'pino';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {jwtAuthenticator, redactUrl, type SwitchboardServer, type SwitchboardServerOptions} from '../src/index.js';
import {orderPlaced, postEvent, startServer} from './helpers.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

let server: SwitchboardServer | undefined;
let jwks: Server | undefined;
const connections: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
  await new Promise<void>((resolve) => (jwks === undefined ? resolve() : jwks.close(() => resolve())));
  jwks = undefined;
});

/** An HS256 token for `sub` with `claims`, valid for `seconds`. */
function token(sub: string, claims: Record<string, unknown> = {}, seconds = 600): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({alg: 'HS256'})
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

async function setup(options: Partial<SwitchboardServerOptions> = {}): Promise<string> {
  ({server} = await startServer({endpoint: {authenticate: jwtAuthenticator({secret: SECRET})}, ...options}));
  return `http://127.0.0.1:${server.port}`;
}

function connect(url: string, factory: () => string | Promise<string>, reconnect = false, transport = signalR.HttpTransportType.WebSockets): signalR.HubConnection {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport, accessTokenFactory: factory})
    .configureLogging(signalR.LogLevel.None);
  const connection = (reconnect ? builder.withAutomaticReconnect([0, 100, 500]) : builder).build();
  connections.push(connection);
  return connection;
}

const bearer = (t: string) => ({authorization: `Bearer ${t}`});

describe('JWT authentication on every door', () => {
  it('refuses the hub and the HTTP API without a valid token, and lets a valid one in', async () => {
    const url = await setup();
    server!.addRoutes((_req, res, u, {principal}) => {
      if (u.pathname !== '/api/whoami') return false;
      res.end(JSON.stringify({user: principal?.userId}));
      return true;
    });
    const alice = await token('alice', {scope: 'metrics'});
    const forged = await new SignJWT({}).setProtectedHeader({alg: 'HS256'}).setSubject('alice').sign(new TextEncoder().encode('another-secret-another-secret-another'));

    expect((await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).status).toBe(401);
    for (const path of ['/api/topics/orders/events', '/api/whoami', '/metrics']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, {headers: bearer(forged)})).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, {headers: bearer(alice)})).status, path).toBe(200);
    }
    expect((await postEvent(url, 'orders', orderPlaced())).status).toBe(401);
    expect(await server!.events.log.head('orders')).toBeNull();
    expect((await fetch(`${url}/api/connections/x/drop`, {method: 'POST'})).status).toBe(401);
    // The access_token query parameter works too (browsers send it on WebSockets and SSE).
    expect(await (await fetch(`${url}/api/whoami?access_token=${alice}`)).json()).toEqual({user: 'alice'});
    // Liveness stays open for probes.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const connection = connect(url, () => alice);
    await connection.start();
    expect(await connection.invoke('subscribe', 'orders', null)).toEqual({topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false});
  });

  it('refuses an expired token, and one without a subject', async () => {
    const url = await setup();
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(await token('alice', {}, -10))})).status).toBe(401);
    const noSub = await new SignJWT({}).setProtectedHeader({alg: 'HS256'}).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(noSub)})).status).toBe(401);
  });

  it('maps claims to grants: user-limited topics, and granted producers', async () => {
    const url = await setup({
      topics: {
        'orders:user-{sub}': {subscribe: 'authenticated', publish: []},
        feeds: {publishers: 'granted', publish: ['order.*']},
      },
    });
    const alice = connect(url, () => token('alice'));
    await alice.start();
    expect(await alice.invoke('subscribe', 'orders:user-alice', null)).toMatchObject({topic: 'orders:user-alice'});
    await expect(alice.invoke('subscribe', 'orders:user-bob', null)).rejects.toThrow(/topic "orders:user-bob" belongs to user "bob"/);
    expect((await fetch(`${url}/api/topics/orders:user-bob/events`, {headers: bearer(await token('alice'))})).status).toBe(403);
    await expect(alice.invoke('publish', 'feeds', orderPlaced())).rejects.toThrow(/needs a token granting "publish:feeds"/);

    const producer = await token('erp', {scope: 'publish:feeds subscribe:feeds'});
    const post = (t: string) => fetch(`${url}/api/topics/feeds/events`, {method: 'POST', headers: {...bearer(t), 'content-type': 'application/json'}, body: JSON.stringify(orderPlaced())});
    expect((await post(await token('alice'))).status).toBe(403);
    expect((await post(producer)).status).toBe(202);
    const seen: string[] = [];
    server!.events.onAppended((_t, _o, _e, by) => seen.push(by.kind === 'client' ? `${by.via}:${by.principal?.userId}` : 'server'));
    const viaTopics = await token('pos', {topics: ['feeds']});
    const pos = connect(url, () => viaTopics);
    await pos.start();
    await pos.invoke('publish', 'feeds', orderPlaced());
    expect(seen).toEqual(['hub:pos']);
  });

  it("ends a long-polling connection on DELETE with its connection token even when the access token expired, but not with another user's token", async () => {
    const url = await setup();
    const alice = await token('alice');
    const open = async () => {
      const negotiated = (await (await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST', headers: bearer(alice)})).json()) as {connectionToken: string; connectionId: string};
      const at = `${url}/hubs/events?id=${encodeURIComponent(negotiated.connectionToken)}`;
      expect((await fetch(at, {headers: bearer(alice)})).status).toBe(200); // the first poll picks long polling
      expect((await fetch(at, {method: 'POST', headers: bearer(alice), body: '{"protocol":"json","version":1}\u001e'})).status).toBe(200);
      expect((await fetch(at, {headers: bearer(alice)})).status).toBe(200); // the handshake answer
      await vi.waitFor(() => expect(server!.hub.connection(negotiated.connectionId)?.phase).toBe('open'));
      return {at, id: negotiated.connectionId};
    };
    const first = await open();
    const expired = await token('alice', {}, -10);
    expect((await fetch(first.at, {headers: bearer(expired)})).status).toBe(401); // a poll still needs a valid token
    expect((await fetch(first.at, {method: 'DELETE', headers: bearer(expired)})).status).toBe(202);
    await vi.waitFor(() => expect(server!.hub.connection(first.id)).toBeUndefined());

    const second = await open();
    expect((await fetch(second.at, {method: 'DELETE', headers: bearer(await token('mallory'))})).status).toBe(403);
    expect(server!.hub.connection(second.id)?.phase).toBe('open');
    expect((await fetch(second.at, {method: 'DELETE'})).status).toBe(202);
    await vi.waitFor(() => expect(server!.hub.connection(second.id)).toBeUndefined());
  });

  it('verifies tokens against a JWKS URL', async () => {
    const {publicKey, privateKey} = await generateKeyPair('RS256');
    const jwk = {...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig'};
    jwks = createServer((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({keys: [jwk]})));
    await new Promise<void>((resolve) => jwks!.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    ({server} = await startServer({endpoint: {authenticate: jwtAuthenticator({jwksUrl, issuer: 'https://idp.test'})}}));
    const url = `http://127.0.0.1:${server.port}`;
    const signed = (iss: string) => new SignJWT({}).setProtectedHeader({alg: 'RS256', kid: 'k1'}).setSubject('carol').setIssuer(iss).setExpirationTime('5m').sign(privateKey);
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(await signed('https://idp.test'))})).status).toBe(200);
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(await signed('https://other.test'))})).status).toBe(401);
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(await token('carol'))})).status).toBe(401);
  });

  it.each(['WebSockets', 'ServerSentEvents', 'LongPolling'] as const)('closes a connection when its token expires; the official client reconnects with a fresh token (%s)', async (transport) => {
    const url = await setup();
    let minted = 0;
    // The first token lives 2 s (JWT expiry has second resolution); later ones an hour.
    const connection = connect(url, () => token('dave', {}, minted++ === 0 ? 2 : 3600), true, signalR.HttpTransportType[transport]);
    await connection.start();
    const first = connection.connectionId;
    const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
    expect(await reconnected).not.toBe(first);
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(connection.state).toBe(signalR.HubConnectionState.Connected);
    expect(await connection.invoke('subscribe', 'orders', null)).toMatchObject({topic: 'orders'});
  });

  it('lets requests without a token in as anonymous when asked, but still refuses a bad one', async () => {
    const url = await setup({endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}, topics: {private: {subscribe: 'authenticated'}}});
    expect((await fetch(`${url}/api/topics/orders/events`)).status).toBe(200);
    expect((await fetch(`${url}/api/topics/private/events`)).status).toBe(403);
    expect((await fetch(`${url}/api/topics/private/events`, {headers: bearer(await token('eve'))})).status).toBe(200);
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer('not-a-jwt')})).status).toBe(401);
  });

  it('keeps tokens out of the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({write: (chunk, _enc, done) => void (lines.push(String(chunk)), done())});
    const url = await setup({logger: pino({level: 'info'}, sink)});
    server!.addRoutes((_req, _res, u) => {
      if (u.pathname === '/api/boom') throw new Error('boom');
      return false;
    });
    const secret = await token('frank');
    expect((await fetch(`${url}/api/boom?access_token=${secret}&x=1`)).status).toBe(500);
    const log = lines.join('');
    expect(log).toContain('request failed');
    expect(log).toContain('access_token=[redacted]&x=1');
    expect(log).not.toContain(secret);
    expect(redactUrl('/hubs/events?id=1&access_token=abc.def.ghi')).toBe('/hubs/events?id=1&access_token=[redacted]');
  });
});

describe('doors that need more than a valid token', () => {
  const withAnonymous = (extra: Partial<SwitchboardServerOptions> = {}) =>
    setup({endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}, ...extra});

  it('refuses a token without exp by default, and takes it when allowTokensWithoutExpiry is set', async () => {
    const forever = await new SignJWT({}).setProtectedHeader({alg: 'HS256'}).setSubject('alice').sign(new TextEncoder().encode(SECRET));
    const strict = jwtAuthenticator({secret: SECRET});
    const lenient = jwtAuthenticator({secret: SECRET, allowTokensWithoutExpiry: true});
    const request = {url: new URL('http://localhost/'), headers: {}, token: forever};
    expect(await strict(request)).toBeNull();
    expect(await lenient(request)).toMatchObject({userId: 'alice'});
    const url = await setup();
    expect((await fetch(`${url}/api/topics/orders/events`, {headers: bearer(forever)})).status).toBe(401);
  });

  it('/metrics needs the metrics scope, even where anonymous clients are let in', async () => {
    const url = await withAnonymous();
    expect((await fetch(`${url}/metrics`)).status).toBe(403);
    expect((await fetch(`${url}/metrics`, {headers: bearer(await token('bob'))})).status).toBe(403);
    const allowed = await fetch(`${url}/metrics`, {headers: bearer(await token('ops', {scope: 'metrics'}))});
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('switchboard_connections');
  });

  it('a drill needs the drills scope', async () => {
    const url = await withAnonymous({drills: true});
    const victim = connect(url, () => '');
    await victim.start();
    const drop = (headers: Record<string, string> = {}) =>
      fetch(`${url}/api/connections/${victim.connectionId}/drop?mode=abort`, {method: 'POST', headers});
    expect((await drop()).status).toBe(403);
    expect((await drop(bearer(await token('mallory')))).status).toBe(403);
    expect(victim.state).toBe(signalR.HubConnectionState.Connected);
    expect((await drop(bearer(await token('ops', {scope: 'drills'})))).status).toBe(202);
  });
});
