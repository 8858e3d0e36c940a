import type {Envelope} from '@switchboard/contracts';
import {HubError} from '@switchboard/hub';
import {OrderCancelled, OrderConfirmed, OrderPlaced, PaymentProcessed, PlaceOrder, ReservationFailed, StockReleased} from '@switchboard/shop-contracts';
import {ORDER_STREAM_TYPES, orderState, type OrderState} from './order-state';
import {DEFAULT_MAX_ORDERS, dropOldestFinished, orderIdOf, PRICE, type ServiceContext} from './services';

/** Statuses after which an order changes no more. */
export const FINISHED: ReadonlySet<string> = new Set(['shipped', 'cancelled']);

/** The orders service's event store: each order's events, in order (the write side of event sourcing). */
export interface OrderStore {
  /** An order rebuilt from its events, with them; undefined for an unknown id. */
  order(orderId: string): (OrderState & {events: readonly Envelope[]}) | undefined;
}

/**
 * The orders service: takes the `order.place` command, keeps each order's event stream (at most
 * `maxOrders`: past it the oldest finished orders are dropped), and moves the saga on (confirm after payment, cancel after a failed reservation or a compensated payment).
 */
export function ordersService(ctx: ServiceContext, maxOrders = DEFAULT_MAX_ORDERS): OrderStore {
  const {bus} = ctx;
  const streams = new Map<string, Envelope[]>();
  ctx.defer(
    ctx.events.handle(PlaceOrder, (command) => {
      if (!PRICE.has(command.data.sku)) throw new HubError(`Unknown product "${command.data.sku}".`);
      // The server makes the id: a client's command id is only unique if the client says so.
      const orderId = `o-${ctx.newId('order')}`;
      bus.publish(OrderPlaced, {orderId, sku: command.data.sku, quantity: command.data.quantity}, {source: 'service:orders', parent: command});
      return {orderId};
    }),
  );
  // The event store: every event of an order's stream, once (the bus dedupes redeliveries; a
  // rebuild from the topics bypasses the bus, so an id already stored is skipped here too).
  ctx.project(
    '*',
    'service:orders-store',
    (e) => {
      if (!ORDER_STREAM_TYPES.has(e.type)) return;
      const orderId = orderIdOf(e);
      const stream = streams.get(orderId) ?? [];
      if ((e.type !== 'order.placed' && stream.length === 0) || stream.some((x) => x.id === e.id)) return;
      streams.set(orderId, [...stream, e]);
      // The demo's store is bounded: the oldest finished orders are dropped (a real shop would archive them).
      dropOldestFinished(streams, maxOrders, (events) => FINISHED.has(orderState(events)?.status ?? ''));
    },
    () => streams.clear(),
  );
  /** The order's status including the event being handled, whether or not the store has it yet. */
  const status = (orderId: string, handling: Envelope) => {
    const stream = streams.get(orderId) ?? [];
    return orderState(stream.some((x) => x.id === handling.id) ? stream : [...stream, handling])?.status;
  };
  ctx.on(ReservationFailed, 'orders', (e) => {
    if (status(e.data.orderId, e) !== 'placed') return;
    bus.publish(OrderCancelled, {orderId: e.data.orderId, reason: e.data.reason, compensated: []}, {source: 'service:orders'});
  });
  ctx.on(PaymentProcessed, 'orders', (e) => {
    if (status(e.data.orderId, e) !== 'paid') return;
    bus.publish(OrderConfirmed, {orderId: e.data.orderId}, {source: 'service:orders'});
  });
  // Compensation finished (the stock is back): the order is cancelled, saying what was undone.
  ctx.on(StockReleased, 'orders', (e) => {
    const state = status(e.data.orderId, e);
    if (state === undefined || state === 'cancelled' || state === 'shipped') return;
    const failure = (streams.get(e.data.orderId) ?? []).find((x) => x.type === 'payment.failed');
    const reason = failure === undefined ? 'Cancelled' : `Payment failed: ${(failure.data as {reason: string}).reason}`;
    bus.publish(OrderCancelled, {orderId: e.data.orderId, reason, compensated: [`released ${e.data.quantity} × ${e.data.sku}`]}, {source: 'service:orders'});
  });
  return {
    order(orderId) {
      const events = streams.get(orderId);
      const state = events === undefined ? undefined : orderState(events);
      return state === undefined ? undefined : {...state, events: events!};
    },
  };
}
