/**
 * A page whose credentials are refused is told why, in words: the hub's 401 body (no token, a
 * refused token) and the token endpoint's answer (the demo's "start it with PAGE_TOKEN_TTL…") reach
 * the connection's state and `switchboard.connection.changed` as `reason`, and the bridge waits
 * `refusedDelayMs` before trying again instead of hammering the hub; it connects, with no reason
 * left, once the credentials are good.
 */
import {jwtAuthenticator, type Principal, type SwitchboardServer} from '@switchboard/hub';
import {ConnectionChanged, tokenFromUrl, type ConnectionState, type HubBridge, type HubBridgeOptions} from '@switchboard/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {mintToken} from '../../scripts/token';
import {pageTokenRoute} from '../src/page-tokens';
import {quietBus, shopBridge, sleep, startServer, until} from './helpers';

const SECRET = 'bridge-refused-test-secret-of-at-least-32-bytes';

let server: SwitchboardServer | undefined;
const bridges: HubBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await server?.close();
  server = undefined;
});

/** A hub that lets nobody in without a valid token, counting how often it was asked. */
async function strictServer(): Promise<{url: string; asked: () => number}> {
  const verify = jwtAuthenticator({secret: SECRET});
  let asked = 0;
  let url: string;
  ({server, url} = await startServer({
    endpoint: {
      authenticate: (request) => {
        asked++;
        return verify(request) as Principal | null | undefined | Promise<Principal | null | undefined>;
      },
    },
  }));
  return {url, asked: () => asked};
}

/** A started bridge (its start() may never settle) and every state it published. */
function started(url: string, options: Partial<HubBridgeOptions>): {hub: HubBridge; states: ConnectionState[]} {
  const bus = quietBus();
  const states: ConnectionState[] = [];
  bus.subscribe(ConnectionChanged, ({data}) => void states.push(data));
  const hub = shopBridge(url, bus, options);
  bridges.push(hub);
  void hub.start().catch(() => {});
  return {hub, states};
}

describe('a page whose credentials are refused', () => {
  it('hears the hub say a token is required, and waits before asking again', async () => {
    const {url, asked} = await strictServer();
    const {hub, states} = started(url, {reconnect: {refusedDelayMs: 60_000}});
    await until(() => hub.state.reason !== undefined);
    expect(hub.state).toEqual({
      status: 'reconnecting',
      attempt: 1,
      retryInMs: 60_000,
      reason: 'The hub refused the connection (401): Unauthorized: this hub requires an access token and the request carried none.',
    });
    expect(states.at(-1)).toEqual({url: `${url}/hubs/events`, ...hub.state});
    await sleep(300); // without the refusal wait, the next attempt would have gone at once
    expect(asked()).toBe(1);
  });

  it('hears that a token was refused', async () => {
    const {url} = await strictServer();
    const {hub} = started(url, {accessTokenFactory: () => 'not-a-jwt', reconnect: {refusedDelayMs: 60_000}});
    await until(() => hub.state.reason !== undefined);
    expect(hub.state.reason).toBe('The hub refused the connection (401): Unauthorized: the access token was refused (expired, or not valid for this hub).');
  });

  it("hears what the token endpoint said: the demo's hint to start the server with PAGE_TOKEN_TTL", async () => {
    const {url, asked} = await strictServer();
    server!.addRoutes(pageTokenRoute({authenticated: true, allowAnonymous: false}));
    const {hub} = started(url, {accessTokenFactory: tokenFromUrl(`${url}/auth/token`), reconnect: {refusedDelayMs: 60_000}});
    await until(() => hub.state.reason !== undefined);
    expect(hub.state.status).toBe('reconnecting');
    expect(hub.state.retryInMs).toBe(60_000);
    expect(hub.state.reason).toBe(
      `The page could not get an access token: the token endpoint ${url}/auth/token answered 404: this server issues no page tokens: start it with PAGE_TOKEN_TTL=<seconds> (and AUTH_JWT_SECRET), or serve tokens from your login here`,
    );
    expect(asked()).toBe(0); // no token, so the hub was never bothered
  });

  it('retries a factory that merely failed at the usual pace, saying why', async () => {
    const {url} = await strictServer();
    const {hub} = started(url, {accessTokenFactory: () => Promise.reject(new Error('login service unreachable'))});
    await until(() => hub.state.reason !== undefined);
    expect(hub.state.status).toBe('reconnecting');
    expect(hub.state.retryInMs).toBeLessThan(30_000); // the usual backoff, not the wait after a refusal
    expect(hub.state.reason).toBe('The page could not get an access token: login service unreachable');
  });

  it('connects once the credentials are good, and the reason goes', async () => {
    const {url} = await strictServer();
    let good = false;
    const factory = () => (good ? mintToken(SECRET, {sub: 'page-user', ttlSeconds: 3600}) : 'not-a-jwt');
    const {hub, states} = started(url, {accessTokenFactory: factory, reconnect: {refusedDelayMs: 200}});
    await until(() => hub.state.reason !== undefined);
    expect(hub.state.retryInMs).toBe(200);
    good = true;
    await until(() => hub.status === 'connected');
    expect(hub.state).toEqual({status: 'connected'});
    expect(states.at(-1)).toEqual({url: `${url}/hubs/events`, status: 'connected'});
  });

  it('gives up with the reason when the policy says so', async () => {
    const {url} = await strictServer();
    const bus = quietBus();
    const hub = shopBridge(url, bus, {reconnect: {maxAttempts: 1, refusedDelayMs: 0}});
    bridges.push(hub);
    await expect(hub.start()).rejects.toThrow(/401/);
    expect(hub.state).toEqual({status: 'offline', reason: 'The hub refused the connection (401): Unauthorized: this hub requires an access token and the request carried none.'});
  });
});
