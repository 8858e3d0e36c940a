import type {Envelope} from '@switchboard/contracts';

/** The steps an order goes through, in order; `cancelled` ends it anywhere. */
export const STEPS = ['placed', 'reserved', 'paid', 'confirmed', 'shipped'] as const;

/** One order as the tracker shows it. */
export interface TrackedOrder {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly status: (typeof STEPS)[number] | 'cancelled';
  readonly reason?: string;
  readonly compensated?: readonly string[];
  readonly correlationId: string;
}

const NEXT: Readonly<Record<string, (typeof STEPS)[number]>> = {
  'inventory.reserved': 'reserved',
  'payment.processed': 'paid',
  'order.confirmed': 'confirmed',
  'order.shipped': 'shipped',
};

/**
 * The tracker's read model: folds one event into the orders it knows. Pure, so the same events
 * always give the same view, whatever order the page received other topics in.
 */
export function project(orders: ReadonlyMap<string, TrackedOrder>, event: Envelope): ReadonlyMap<string, TrackedOrder> {
  const data = event.data as Record<string, unknown>;
  const orderId = data['orderId'];
  if (typeof orderId !== 'string') return orders;
  const known = orders.get(orderId);
  const next = new Map(orders);
  if (event.type === 'order.placed') {
    if (known !== undefined) return orders;
    next.set(orderId, {orderId, sku: String(data['sku']), quantity: Number(data['quantity']), status: 'placed', correlationId: event.correlationId});
    return next;
  }
  if (known === undefined || known.status === 'shipped' || known.status === 'cancelled') return orders;
  if (event.type === 'order.cancelled') {
    next.set(orderId, {...known, status: 'cancelled', reason: String(data['reason']), compensated: data['compensated'] as string[]});
    return next;
  }
  const status = NEXT[event.type];
  if (status === undefined || STEPS.indexOf(status) <= STEPS.indexOf(known.status as (typeof STEPS)[number])) return orders;
  next.set(orderId, {...known, status});
  return next;
}
