import {applyOrderEvent, ORDER_STREAM_TYPES, type OrderState} from './order-state';
import {FINISHED} from './orders';
import {DEFAULT_MAX_ORDERS, dropOldestFinished, NAME, orderIdOf, type ServiceContext} from './services';

/** One product's stock, as the inventory read model shows it. */
export interface StockLevel {
  readonly sku: string;
  readonly name: string;
  readonly level: number;
}

/** One page of the orders read model, newest first; `next` is the cursor of the page after it, or null at the end. */
export interface OrdersPage {
  readonly orders: OrderState[];
  readonly next: string | null;
}

/** The shop's read models (CQRS), updated from events only. */
export interface ReadModels {
  /** The orders read model, newest first. */
  orders(): OrderState[];
  /** Up to `limit` orders, newest first, after the order `after` (a cursor from an earlier page; null: from the newest). */
  ordersPage(after: string | null, limit: number): OrdersPage;
  /** The inventory read model. */
  inventory(): StockLevel[];
}

/** Builds the orders and inventory read models from the events on the server bus. */
export function readModels(ctx: ServiceContext, initialStock: ReadonlyMap<string, number>, maxOrders = DEFAULT_MAX_ORDERS): ReadModels {
  const ordersView = new Map<string, OrderState>();
  const inventoryView = new Map<string, StockLevel>();
  const reset = () => {
    ordersView.clear();
    inventoryView.clear();
    for (const [sku, level] of initialStock) inventoryView.set(sku, {sku, name: NAME.get(sku) ?? sku, level});
  };
  reset();
  ctx.project(
    '*',
    'service:read-models',
    (e) => {
      if (ORDER_STREAM_TYPES.has(e.type)) {
        const orderId = orderIdOf(e);
        const next = applyOrderEvent(ordersView.get(orderId), e);
        if (next !== undefined) ordersView.set(orderId, next);
        dropOldestFinished(ordersView, maxOrders, (o) => FINISHED.has(o.status));
      }
      const level = (e.data as {level?: unknown}).level;
      const sku = (e.data as {sku?: unknown}).sku;
      if (typeof level === 'number' && typeof sku === 'string' && inventoryView.has(sku)) {
        inventoryView.set(sku, {sku, name: NAME.get(sku) ?? sku, level});
      }
    },
    reset,
  );
  return {
    orders: () => [...ordersView.values()].reverse(),
    ordersPage: (after, limit) => {
      const all = [...ordersView.values()].reverse();
      // An unknown cursor (its order was dropped, or never existed) gives an empty last page.
      const start = after === null ? 0 : all.findIndex((o) => o.orderId === after) + 1 || all.length;
      const orders = all.slice(start, start + limit);
      return {orders, next: start + limit < all.length ? orders[orders.length - 1]!.orderId : null};
    },
    inventory: () => [...inventoryView.values()],
  };
}
