import type {Envelope} from '@switchboard/contracts';

/** Where an order is in the saga. */
export type OrderStatus = 'placed' | 'reserved' | 'paid' | 'confirmed' | 'shipped' | 'cancelled';

/** An order as its events say it is. */
export interface OrderState {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly status: OrderStatus;
  /** The flow every event of this order carries, from the click to the last push. */
  readonly correlationId: string;
  readonly reason?: string;
  readonly compensated?: readonly string[];
  /** Each event's type and time, in order. */
  readonly history: ReadonlyArray<{readonly type: string; readonly time: string}>;
}

/** The event types that make up an order's stream. */
export const ORDER_STREAM_TYPES: ReadonlySet<string> = new Set([
  'order.placed',
  'inventory.reserved',
  'inventory.reservation-failed',
  'inventory.released',
  'payment.processed',
  'payment.failed',
  'order.confirmed',
  'order.shipped',
  'order.cancelled',
]);

/** Statuses an order may never leave. */
const FINAL: ReadonlySet<OrderStatus> = new Set(['shipped', 'cancelled']);

/**
 * Applies one event to an order (event sourcing: the state is nothing but this fold over its
 * events). Events before `order.placed`, of other types, or after a final status only join the
 * history; they never move the status backwards.
 */
export function applyOrderEvent(state: OrderState | undefined, event: Envelope): OrderState | undefined {
  const data = event.data as Record<string, unknown>;
  if (state === undefined) {
    if (event.type !== 'order.placed') return undefined;
    return {
      orderId: String(data['orderId']),
      sku: String(data['sku']),
      quantity: Number(data['quantity']),
      status: 'placed',
      correlationId: event.correlationId,
      history: [{type: event.type, time: event.time}],
    };
  }
  const history = [...state.history, {type: event.type, time: event.time}];
  if (FINAL.has(state.status)) return {...state, history};
  switch (event.type) {
    case 'inventory.reserved':
      return {...state, status: 'reserved', history};
    case 'payment.processed':
      return {...state, status: 'paid', history};
    case 'order.confirmed':
      return {...state, status: 'confirmed', history};
    case 'order.shipped':
      return {...state, status: 'shipped', history};
    case 'order.cancelled':
      return {...state, status: 'cancelled', reason: String(data['reason']), compensated: data['compensated'] as string[], history};
    default:
      return {...state, history};
  }
}

/** Rebuilds an order from its events. */
export function orderState(events: readonly Envelope[]): OrderState | undefined {
  return events.reduce<OrderState | undefined>(applyOrderEvent, undefined);
}
