import {createEnvelope} from '@switchboard/contracts';
import {PlaceOrder} from '@switchboard/shop-contracts';
import type {SwitchboardServer} from '@switchboard/hub';
import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import {Shop, shopPolicies, type ShopOptions} from '../src/domain/shop';
import {startServer} from './helpers';

let server: SwitchboardServer | undefined;
let shop: Shop | undefined;
afterEach(async () => {
  shop?.close();
  await server?.close();
  server = shop = undefined;
});

async function open(options: Partial<ShopOptions> = {}): Promise<string> {
  let url: string;
  ({server, url} = await startServer({...shopPolicies}));
  shop = new Shop({events: server.events, logger: pino({level: 'silent'}), random: () => 0.99, shippingDelayMs: 0, retry: {attempts: 1, backoffMs: 1}, initialStock: {'tea-sencha': 1000}, ...options});
  server.addRoutes(shop.routes);
  return url;
}

const place = () => createEnvelope(PlaceOrder, {sku: 'tea-sencha', quantity: 1}, {source: 'test'});
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the orders read model and store are bounded', () => {
  it('GET /api/orders is paged: newest first, a default and a maximum limit, a next cursor', async () => {
    const url = await open();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(((await server!.events.command(place())) as {orderId: string}).orderId);
    await until(() => shop!.orders().length === 7);
    const page = async (query: string) => (await (await fetch(`${url}/api/orders${query}`)).json()) as {orders: {orderId: string}[]; next: string | null; offsets: object};
    const first = await page('?limit=3');
    expect(first.orders.map((o) => o.orderId)).toEqual(ids.slice(4).reverse());
    expect(first.offsets).toBeDefined();
    const second = await page(`?limit=3&after=${first.next}`);
    expect(second.orders.map((o) => o.orderId)).toEqual(ids.slice(1, 4).reverse());
    const last = await page(`?limit=3&after=${second.next}`);
    expect(last.orders.map((o) => o.orderId)).toEqual([ids[0]]);
    expect(last.next).toBeNull();
    expect((await page('')).orders).toHaveLength(7);
    expect((await fetch(`${url}/api/orders?limit=201`)).status).toBe(400);
    expect((await fetch(`${url}/api/orders?limit=0`)).status).toBe(400);
  });

  it('keeps at most maxOrders, dropping the oldest finished ones', async () => {
    await open({maxOrders: 5});
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(((await server!.events.command(place())) as {orderId: string}).orderId);
      await until(() => shop!.order(ids.at(-1)!)?.status === 'shipped');
    }
    expect(shop!.orders().length).toBeLessThanOrEqual(5);
    expect(shop!.order(ids[0]!)).toBeUndefined();
    expect(shop!.order(ids[11]!)?.status).toBe('shipped');
  });
});
