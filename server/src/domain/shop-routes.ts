import type {IncomingMessage, ServerResponse} from 'node:http';
import {readBody, sendJson, type Principal, type RouteContext} from '@switchboard/hub';
import {INVENTORY_TOPIC, ORDERS_TOPIC, SETTINGS_TOPIC} from '@switchboard/shop-contracts';
import type {OrderState} from './order-state';
import type {OrdersPage, StockLevel} from './read-models';

/** Orders one `GET /api/orders` returns unless `limit` says otherwise. */
export const DEFAULT_ORDERS_PAGE = 50;
/** The largest `limit` of `GET /api/orders`. */
export const MAX_ORDERS_PAGE = 200;

/** What the shop's HTTP routes read and change: the shop's read models and settings. */
export interface ShopRoutesSource {
  ordersPage(after: string | null, limit: number): OrdersPage;
  order(orderId: string): OrderState | undefined;
  inventory(): StockLevel[];
  /** The topics' offsets the read models reflect (see `Shop.offsets`). */
  offsets(...topics: string[]): Promise<Record<string, string | null>>;
  canChangeSettings(principal: Principal | undefined): boolean;
  changeSettings(paymentFailureRate: number): void;
  /** Resolves once this node has applied what the topics hold (on Redis streams; at once in memory). */
  caughtUp(): Promise<void>;
  paymentFailureRate(): number;
}

/**
 * The shop's HTTP routes (`GET /api/orders`, `GET /api/orders/:id`, `GET /api/inventory`,
 * `GET|PUT /api/settings`), for `server.addRoutes`. Each read model answers with its data and
 * `offsets`, the topics' offsets it reflects, taken in the same synchronous step as the data.
 */
export function shopRoutes(shop: ShopRoutesSource) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, context?: RouteContext): Promise<boolean> => {
    if (req.method === 'GET' && url.pathname === '/api/orders') {
      const limitParam = url.searchParams.get('limit');
      const limit = limitParam === null ? DEFAULT_ORDERS_PAGE : Number(limitParam);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ORDERS_PAGE) {
        return void sendJson(res, 400, {error: `limit must be a whole number from 1 to ${MAX_ORDERS_PAGE}`}), true;
      }
      // Order state folds events of both topics (a reservation is an inventory event).
      const {orders, next} = shop.ordersPage(url.searchParams.get('after'), limit);
      return void sendJson(res, 200, {orders, next, offsets: await shop.offsets(ORDERS_TOPIC, INVENTORY_TOPIC)}), true;
    }
    const one = /^\/api\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one !== null) {
      const order = shop.order(decodeURIComponent(one[1]!));
      sendJson(res, order === undefined ? 404 : 200, order ?? {error: 'no such order'});
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/api/inventory') {
      const products = shop.inventory();
      return void sendJson(res, 200, {products, offsets: await shop.offsets(INVENTORY_TOPIC)}), true;
    }
    if (url.pathname === '/api/settings') {
      if (req.method === 'PUT') {
        if (!shop.canChangeSettings(context?.principal)) return void sendJson(res, 403, {error: 'Forbidden: changing settings needs a token with the "admin" scope.'}), true;
        let body: unknown;
        try {
          body = JSON.parse((await readBody(req, 1024)).toString('utf8'));
        } catch {
          return void sendJson(res, 400, {error: 'body must be JSON'}), true;
        }
        const rate = (body as {paymentFailureRate?: unknown} | null)?.paymentFailureRate;
        if (typeof rate !== 'number' || rate < 0 || rate > 1) return void sendJson(res, 400, {error: 'paymentFailureRate must be a number from 0 to 1'}), true;
        // A thin wrapper over the settings.changed event, which every page follows.
        shop.changeSettings(rate);
        // On streams the setting follows the topic: answer once this node has it.
        await shop.caughtUp();
      }
      sendJson(res, 200, {paymentFailureRate: shop.paymentFailureRate(), offsets: await shop.offsets(SETTINGS_TOPIC)});
      return true;
    }
    return false;
  };
}
