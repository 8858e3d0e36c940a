import type {Envelope} from '@switchboard/contracts';

/**
 * The order's state as a fold over its events: one definition for the shop's services (the saga,
 * the read models) and the pages (the order tracker), so the server and the page never disagree on
 * what an order's events mean.
 */

/** The steps an order goes through, in order; `cancelled` ends it anywhere. */
export const ORDER_STEPS = ['placed', 'reserved', 'paid', 'confirmed', 'shipped'] as const;

/** Where an order is in the saga. */
export type OrderStatus = (typeof ORDER_STEPS)[number] | 'cancelled';

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

/** The step each event type moves an order to. */
const STEP_OF: Readonly<Record<string, (typeof ORDER_STEPS)[number]>> = {
  'inventory.reserved': 'reserved',
  'payment.processed': 'paid',
  'order.confirmed': 'confirmed',
  'order.shipped': 'shipped',
};

/**
 * Applies one event to an order (event sourcing: the state is nothing but this fold over its
 * events). Events before `order.placed`, of other types, or after a final status only join the
 * history; no event moves the status backwards (a late `inventory.reserved` after `paid` stays `paid`).
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
  if (event.type === 'order.cancelled') {
    return {...state, status: 'cancelled', reason: String(data['reason']), compensated: data['compensated'] as string[], history};
  }
  const step = STEP_OF[event.type];
  if (step === undefined || ORDER_STEPS.indexOf(step) <= ORDER_STEPS.indexOf(state.status as (typeof ORDER_STEPS)[number])) return {...state, history};
  return {...state, status: step, history};
}

/** Rebuilds an order from its events. */
export function orderState(events: readonly Envelope[]): OrderState | undefined {
  return events.reduce<OrderState | undefined>(applyOrderEvent, undefined);
}
