import {createServer, createConnection, type Server, type Socket} from 'node:net';
import type {Envelope} from '@switchboard/contracts';
import {redisEngine, type SwitchboardServer} from '@switchboard/hub';
import {PRODUCTS} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {freePort} from '../../packages/hub/test/redis-server.js';
import {Shop} from '../src/domain/shop';
import {startServer} from './helpers';

/** A shop node on Redis: its hub and its shop, whose services are one consumer of each group. */
export interface ShopNode {
  readonly server: SwitchboardServer;
  readonly shop: Shop;
  readonly url: string;
}

/** Units of each product at start: enough that no test order is refused for stock. */
export const STOCK = 10_000;

/** Starts a shop node on Redis at `url` under key `prefix`, payments always succeeding, shipping at once (or after `shippingDelayMs`). */
export async function startShopNode(name: string, prefix: string, url: string, shippingDelayMs = 0): Promise<ShopNode> {
  const engine = redisEngine({url, prefix});
  const {server, url: base} = await startServer({engine});
  const shop = new Shop({
    events: server.events,
    logger: pino({level: 'silent'}),
    random: () => 0.99,
    paymentFailureRate: 0,
    shippingDelayMs,
    initialStock: Object.fromEntries(PRODUCTS.map((p) => [p.sku, STOCK])),
    lowStockAt: 0,
    streams: {connection: engine.connection, keys: engine.keys, log: engine.log, node: name, claimIdleMs: 3000},
  });
  server.addRoutes(shop.routes);
  await shop.start();
  return {server, shop, url: base};
}

/** Closes a node's shop and hub. */
export async function stopShopNode(node: ShopNode): Promise<void> {
  node.shop.close();
  await node.server.close();
}

/** Polls `check` every 20 ms until it holds; throws naming `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every event a topic holds, read in pages. */
export async function everything(server: SwitchboardServer, topic: string): Promise<Envelope[]> {
  const events: Envelope[] = [];
  for (let after: string | null = null; ;) {
    const page = await server.events.log.read(topic, after, 1000);
    events.push(...page.entries.map((e) => e.event));
    if (page.entries.length < 1000) return events;
    after = page.next;
  }
}

/** How many events of each type each order has in the topics: the services' side effects. */
export async function effects(server: SwitchboardServer): Promise<Map<string, Record<string, number>>> {
  const byOrder = new Map<string, Record<string, number>>();
  for (const topic of ['orders', 'inventory', 'notifications']) {
    for (const e of await everything(server, topic)) {
      const orderId = (e.data as {orderId?: string}).orderId;
      if (orderId === undefined) continue;
      const counts = byOrder.get(orderId) ?? {};
      counts[e.type] = (counts[e.type] ?? 0) + 1;
      byOrder.set(orderId, counts);
    }
  }
  return byOrder;
}

/** The side effects once the shipped notifications (which follow the shipment) are in, and a little after for any duplicate. */
export async function settled(server: SwitchboardServer, orderIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const notified = await effects(server);
    if (orderIds.every((id) => notified.get(id)?.['notification.raised'] === 1)) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  return effects(server);
}

/** What a shipped order leaves in the topics, each exactly once. */
export const ONCE_EACH = {
  'order.placed': 1,
  'inventory.reserved': 1,
  'payment.processed': 1,
  'order.confirmed': 1,
  'order.shipped': 1,
  'notification.raised': 1,
};

/**
 * A real TCP proxy on a loopback port in front of Redis: `cut()` drops every connection through it
 * and refuses new ones (one node loses Redis while the others keep it), `restore()` lets them in again.
 */
export class RedisLink {
  readonly #target: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  private constructor(
    readonly port: number,
    target: number,
  ) {
    this.#target = target;
  }

  /** A link to Redis on `targetPort`, open. */
  static async open(targetPort: number): Promise<RedisLink> {
    const link = new RedisLink(await freePort(), targetPort);
    await link.restore();
    return link;
  }

  /** `redis://` URL through the link. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Accepts connections again. */
  async restore(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((client) => {
      const upstream = createConnection({port: this.#target, host: '127.0.0.1'});
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.once('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }
}
