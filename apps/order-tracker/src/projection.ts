import type {Envelope} from '@switchboard/contracts';
import {applyOrderEvent, ORDER_STEPS, ORDER_STREAM_TYPES, type OrderState} from '@switchboard/shop-contracts';

/** The steps an order goes through, in order; `cancelled` ends it anywhere. */
export const STEPS = ORDER_STEPS;

/** One order as the tracker shows it: the shop's own order state. */
export type TrackedOrder = OrderState;

/**
 * The tracker's read model: folds one event into the orders it knows, with the same fold as the
 * server (`applyOrderEvent`). Pure, so the same events always give the same view, whatever order
 * the page received other topics in.
 */
export function project(orders: ReadonlyMap<string, TrackedOrder>, event: Envelope): ReadonlyMap<string, TrackedOrder> {
  const orderId = (event.data as Record<string, unknown> | null)?.['orderId'];
  if (typeof orderId !== 'string' || !ORDER_STREAM_TYPES.has(event.type)) return orders;
  const next = applyOrderEvent(orders.get(orderId), event);
  return next === undefined ? orders : new Map(orders).set(orderId, next);
}
