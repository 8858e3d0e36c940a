import {createEnvelope, type Envelope} from '@switchboard/contracts';
import * as signalR from '@microsoft/signalr';
import {hasScope, jwtAuthenticator, type SwitchboardServer, type SwitchboardServerOptions} from '@switchboard/hub';
import {ChangeSettings, OrderPlaced, PlaceOrder} from '@switchboard/shop-contracts';
import {SignJWT} from 'jose';
import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import {Shop, shopPolicies, type ShopOptions} from '../src/domain/shop';
import {startServer} from './helpers';

/**
 * Issue #9: a hostile client must not forge the server's events. Each forgery the issue found is
 * tried here, over HTTP and through the hub, against the shop as `npm start` runs it.
 */
let server: SwitchboardServer | undefined;
let shop: Shop | undefined;
const connections: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.stop()));
  shop?.close();
  await server?.close();
  server = shop = undefined;
});

const SECRET = 'shop-test-secret-at-least-32-bytes-long!';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** The shop as main.ts serves it: its policies on the server; shipping slow, so a paid order stays confirmed. */
async function open(options: Partial<ShopOptions> = {}, serverOptions: Partial<SwitchboardServerOptions> = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({...shopPolicies, ...serverOptions}));
  shop = new Shop({events: server.events, logger: pino({level: 'silent'}), random: () => 0.99, shippingDelayMs: 60_000, retry: {attempts: 3, backoffMs: 1}, ...options});
  server.addRoutes(shop.routes);
  return url.replace('localhost', '127.0.0.1');
}

const place = (sku = 'tea-sencha', quantity = 2, id?: string) => createEnvelope(PlaceOrder, {sku, quantity}, {source: 'mfe:shop-order-form', ...(id === undefined ? {} : {id})});

/** Places an order by command and waits until it is paid and confirmed. */
async function confirmedOrder(): Promise<string> {
  const {orderId} = (await server!.events.command(place())) as {orderId: string};
  await until(() => shop!.order(orderId)?.status === 'confirmed');
  return orderId;
}

/** A forged event of the shop's vocabulary, as a client could build it. */
function forged(type: string, data: Record<string, unknown>): Envelope {
  return {id: `forged-${Math.random().toString(36).slice(2)}`, type, version: 1, time: new Date().toISOString(), source: 'service:payments', correlationId: 'forged', data};
}

function post(url: string, topic: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/topics/${topic}/events`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: JSON.stringify(body)});
}

/** What a customer can see: the two read models. */
async function readModels(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const orders = await (await fetch(`${url}/api/orders`, {headers})).json();
  const inventory = await (await fetch(`${url}/api/inventory`, {headers})).json();
  return {orders, inventory};
}

/** Lets the services finish whatever was appended before: a command's whole flow runs after it. */
async function settle(): Promise<void> {
  await confirmedOrder();
}

async function hubClient(url: string, token?: string): Promise<signalR.HubConnection> {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets, ...(token === undefined ? {} : {accessTokenFactory: () => token})})
    .configureLogging(signalR.LogLevel.None)
    .build();
  connections.push(connection);
  await connection.start();
  return connection;
}

function token(sub: string, scope: string): Promise<string> {
  return new SignJWT({scope}).setProtectedHeader({alg: 'HS256'}).setSubject(sub).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
}

describe('forged server events are refused and change nothing', () => {
  it('a payment.failed POSTed over HTTP does not cancel a paid order', async () => {
    const url = await open();
    const orderId = await confirmedOrder();
    const before = await readModels(url);
    const head = await server!.events.log.head('orders');
    const response = await post(url, 'orders', forged('payment.failed', {orderId, reason: 'forged'}));
    expect(response.status).toBe(403);
    // An anonymous client may publish nothing on "orders": refused before its body is even read.
    expect(((await response.json()) as {error: string}).error).toMatch(/publish on topic "orders" needs a token granting/);
    expect(await server!.events.log.head('orders')).toBe(head);
    expect(await readModels(url)).toEqual(before);
    await settle();
    expect(shop!.order(orderId)!.status).toBe('confirmed');
  });

  it('a payment.failed published through the hub does not cancel a paid order', async () => {
    const url = await open();
    const orderId = await confirmedOrder();
    const before = await readModels(url);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'orders', forged('payment.failed', {orderId, reason: 'forged'}))).rejects.toThrow(/server-owned/);
    // Nor on any other topic: the services used to act on events of every topic.
    await expect(connection.invoke('publish', 'elsewhere', forged('payment.failed', {orderId, reason: 'forged'}))).rejects.toThrow(/server-owned/);
    expect(await readModels(url)).toEqual(before);
    await settle();
    expect(shop!.order(orderId)!.status).toBe('confirmed');
  });

  it('a forged order.shipped neither ships the order nor tells anyone it shipped', async () => {
    const url = await open();
    const orderId = await confirmedOrder();
    const before = await readModels(url);
    const notes = await server!.events.log.head('notifications');
    expect((await post(url, 'orders', forged('order.shipped', {orderId}))).status).toBe(403);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'orders', forged('order.shipped', {orderId}))).rejects.toThrow(/"order\.shipped" is server-owned/);
    expect(await readModels(url)).toEqual(before);
    expect(await server!.events.log.head('notifications')).toBe(notes);
  });

  it('a forged inventory.restocked with level 99999 does not show in /api/inventory', async () => {
    const url = await open();
    const before = await readModels(url);
    expect((await post(url, 'inventory', forged('inventory.restocked', {sku: 'tea-sencha', quantity: 999, level: 99999}))).status).toBe(403);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'inventory', forged('inventory.restocked', {sku: 'tea-sencha', quantity: 999, level: 99999}))).rejects.toThrow(/server-owned/);
    expect(await readModels(url)).toEqual(before);
    expect(await server!.events.log.head('inventory')).toBeNull();
  });

  it('a forged notification.raised reaches no page', async () => {
    const url = await open();
    const raised = forged('notification.raised', {level: 'error', message: 'Your card was charged twice, call +1 555'});
    expect((await post(url, 'notifications', raised)).status).toBe(403);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'notifications', raised)).rejects.toThrow(/server-owned/);
    expect(await server!.events.log.head('notifications')).toBeNull();
  });

  it('order.place published as an event is refused: commands go only through command', async () => {
    const url = await open();
    const before = await readModels(url);
    expect((await post(url, 'orders', place())).status).toBe(403);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'orders', place())).rejects.toThrow(/"order\.place" is a command/);
    expect(await server!.events.log.head('orders')).toBeNull();
    expect(await readModels(url)).toEqual(before);
  });

  it('a page may not publish order.placed either: orders are placed through order.place', async () => {
    const url = await open();
    const placed = createEnvelope(OrderPlaced, {orderId: 'o-free', sku: 'tea-sencha', quantity: 20}, {source: 'mfe:evil'});
    expect((await post(url, 'orders', placed)).status).toBe(403);
    const connection = await hubClient(url);
    await expect(connection.invoke('publish', 'orders', placed)).rejects.toThrow(/needs a token granting "publish:orders"/);
    expect(shop!.order('o-free')).toBeUndefined();
  });
});

describe('granted producers and authentication', () => {
  const auth = (allowAnonymous: boolean): Partial<SwitchboardServerOptions> => ({endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous})}});

  it('lets a producer granted publish:orders place an order by event, and the saga runs', async () => {
    const url = await open({}, auth(true));
    const placed = createEnvelope(OrderPlaced, {orderId: 'o-pos-1', sku: 'tea-oolong', quantity: 1}, {source: 'urn:pos'});
    expect((await post(url, 'orders', placed)).status).toBe(403);
    expect((await post(url, 'orders', placed, {authorization: `Bearer ${await token('pos', 'subscribe:orders')}`})).status).toBe(403);
    expect((await post(url, 'orders', placed, {authorization: `Bearer ${await token('pos', 'publish:orders')}`})).status).toBe(202);
    await until(() => shop!.order('o-pos-1')?.status === 'confirmed');
    // Even a granted producer cannot forge what only the server says.
    const failed = forged('payment.failed', {orderId: 'o-pos-1', reason: 'x'});
    expect((await post(url, 'orders', failed, {authorization: `Bearer ${await token('pos', 'publish:orders')}`})).status).toBe(403);
  });

  it('with auth required, the read models, settings and ingest need a token; settings need the admin scope', async () => {
    const url = await open({canChangeSettings: (p) => hasScope(p, 'admin')}, auth(false));
    for (const path of ['/api/orders', '/api/inventory', '/api/settings', '/api/topics/orders/events']) expect((await fetch(`${url}${path}`)).status, path).toBe(401);
    expect((await post(url, 'orders', place())).status).toBe(401);
    const put = (t?: string) =>
      fetch(`${url}/api/settings`, {method: 'PUT', headers: t === undefined ? {} : {authorization: `Bearer ${t}`}, body: JSON.stringify({paymentFailureRate: 1})});
    expect((await put()).status).toBe(401);
    expect((await put(await token('alice', 'subscribe:orders'))).status).toBe(403);
    expect(shop!.paymentFailureRate).toBe(0.2);
    expect((await put(await token('root', 'admin'))).status).toBe(200);
    expect(shop!.paymentFailureRate).toBe(1);
    const alice = {authorization: `Bearer ${await token('alice', '')}`};
    expect((await fetch(`${url}/api/orders`, {headers: alice})).status).toBe(200);
  });
});

describe('server-made order ids', () => {
  it('gives two commands whose ids share their first 8 characters two orders, both fulfilled', async () => {
    await open({shippingDelayMs: 0});
    const a = (await server!.events.command(place('tea-sencha', 1, '0badf00d-1111-4111-8111-111111111111'))) as {orderId: string};
    const b = (await server!.events.command(place('tea-sencha', 1, '0badf00d-2222-4222-8222-222222222222'))) as {orderId: string};
    expect(a.orderId).not.toBe(b.orderId);
    expect(a.orderId).not.toContain('0badf00d');
    await until(() => shop!.order(a.orderId)?.status === 'shipped' && shop!.order(b.orderId)?.status === 'shipped');
    expect(shop!.orders().filter((o) => o.orderId === a.orderId || o.orderId === b.orderId)).toHaveLength(2);
  });
});

describe('settings through the hub command', () => {
  it('refuses settings.change from a client without the admin scope when tokens are on, and changes nothing', async () => {
    const secret = 'settings-test-secret-of-at-least-32-bytes';
    let url: string;
    ({server, url} = await startServer({...shopPolicies, endpoint: {authenticate: jwtAuthenticator({secret, allowAnonymous: true})}}));
    const shop = new Shop({events: server.events, logger: pino({level: 'silent'}), paymentFailureRate: 0.2, canChangeSettings: (p) => hasScope(p, 'admin')});
    try {
      const anonymous = new signalR.HubConnectionBuilder().withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets}).configureLogging(signalR.LogLevel.None).build();
      await anonymous.start();
      const command = createEnvelope(ChangeSettings, {paymentFailureRate: 1}, {source: 'test'});
      await expect(anonymous.invoke('command', command)).rejects.toThrow(/admin/);
      expect(shop.paymentFailureRate).toBe(0.2);
      await anonymous.stop();
    } finally {
      shop.close();
    }
  });
});

describe("a user's own orders topic", () => {
  it('orders:user-bob is readable by bob only: not anonymously, not by another user', async () => {
    const url = await open({}, {endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}});
    const read = (headers: Record<string, string> = {}) => fetch(`${url}/api/topics/orders:user-bob/events`, {headers});
    expect((await read()).status).toBe(403);
    expect((await read({authorization: `Bearer ${await token('alice', '')}`})).status).toBe(403);
    expect((await read({authorization: `Bearer ${await token('bob', '')}`})).status).toBe(200);
    const anonymous = new signalR.HubConnectionBuilder().withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets}).configureLogging(signalR.LogLevel.None).build();
    connections.push(anonymous);
    await anonymous.start();
    await expect(anonymous.invoke('subscribe', 'orders:user-bob', null)).rejects.toThrow(/Forbidden/);
    // Nobody publishes there but the server.
    expect((await post(url, 'orders:user-bob', forged('order.placed', {orderId: 'o-1', sku: 'tea-sencha', quantity: 1}), {authorization: `Bearer ${await token('bob', '')}`})).status).toBe(403);
  });
});
