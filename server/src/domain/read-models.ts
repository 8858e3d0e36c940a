import {applyOrderEvent, ORDER_STREAM_TYPES, type OrderState} from './order-state';
import {NAME, orderIdOf, type ServiceContext} from './services';

/** One product's stock, as the inventory read model shows it. */
export interface StockLevel {
  readonly sku: string;
  readonly name: string;
  readonly level: number;
}

/** The shop's read models (CQRS), updated from events only. */
export interface ReadModels {
  /** The orders read model, newest first. */
  orders(): OrderState[];
  /** The inventory read model. */
  inventory(): StockLevel[];
}

/** Builds the orders and inventory read models from the events on the server bus. */
export function readModels(ctx: ServiceContext, initialStock: ReadonlyMap<string, number>): ReadModels {
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
    inventory: () => [...inventoryView.values()],
  };
}
