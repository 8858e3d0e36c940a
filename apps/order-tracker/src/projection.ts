import type {Envelope} from '@switchboard/contracts';
import {applyOrderEvent, ORDER_STEPS, ORDER_STREAM_TYPES, type OrderState} from '@switchboard/shop-contracts';

/** The steps an order goes through, in order; `cancelled` ends it anywhere. */
export const STEPS = ORDER_STEPS;

/** One order as the tracker shows it: the shop's own order state. */
export type TrackedOrder = OrderState;

/** Orders the tracker shows: the most recent page of the server's read model, and no more as new ones arrive. */
export const MAX_TRACKED = 50;

/**
 * The tracker's read model: folds one event into the orders it knows, with the same fold as the
 * server (`applyOrderEvent`), keeping the {@link MAX_TRACKED} most recent (oldest dropped first). Pure, so the
 * same events always give the same view, whatever order the page received other topics in.
 */
export function project(orders: ReadonlyMap<string, TrackedOrder>, event: Envelope): ReadonlyMap<string, TrackedOrder> {
  const orderId = (event.data as Record<string, unknown> | null)?.['orderId'];
  if (typeof orderId !== 'string' || !ORDER_STREAM_TYPES.has(event.type)) return orders;
  const next = applyOrderEvent(orders.get(orderId), event);
  if (next === undefined) return orders;
  const updated = new Map(orders).set(orderId, next);
  for (const oldest of updated.keys()) {
    if (updated.size <= MAX_TRACKED) break;
    updated.delete(oldest);
  }
  return updated;
}
