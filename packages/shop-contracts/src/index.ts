import {AppDeployed, AppRolledBack, ContractRegistry, defineEvent, DEPLOYS_TOPIC} from '@switchboard/contracts';
import {z} from 'zod';

/** The server topic that carries orders and payments. */
export const ORDERS_TOPIC = 'orders';
/** The server topic that carries stock levels. */
export const INVENTORY_TOPIC = 'inventory';
/** The server topic that carries notifications and dead letters. */
export const NOTIFICATIONS_TOPIC = 'notifications';
/** The server topic that carries changes of the shop's settings. */
export const SETTINGS_TOPIC = 'settings';

const orderId = z.string().min(1).max(64);
const sku = z.string().min(1).max(64);
const quantity = z.number().int().positive().max(1000);
/** Every string in a shop contract is bounded, so no event can carry a 60 KB payload in one field. */
const reason = z.string().max(500);
const eventType = z.string().max(128);

/** What the shop sells: the one piece of data every app and service shares. */
export const PRODUCTS = [
  {sku: 'tea-sencha', name: 'Sencha', priceCents: 850},
  {sku: 'tea-assam', name: 'Assam', priceCents: 650},
  {sku: 'tea-oolong', name: 'Oolong', priceCents: 1200},
] as const;

/** Ask the shop to place an order; answered with `{orderId}` or rejected with a reason. */
export const PlaceOrder = defineEvent({
  type: 'order.place',
  kind: 'command',
  description: 'Place an order for quantity units of sku.',
  schema: z.object({sku, quantity: quantity.max(100)}),
});

/** A customer placed an order for `quantity` units of `sku`. */
export const OrderPlaced = defineEvent({
  type: 'order.placed',
  version: 1,
  description: 'A customer placed an order.',
  schema: z.object({orderId, sku, quantity}),
});

/** Stock was set aside for an order. */
export const StockReserved = defineEvent({type: 'inventory.reserved', description: 'Stock was reserved for an order.', schema: z.object({orderId, sku, quantity, level: z.number().int()})});

/** Stock could not be set aside: the order will be cancelled. */
export const ReservationFailed = defineEvent({type: 'inventory.reservation-failed', description: 'Not enough stock for an order.', schema: z.object({orderId, sku, quantity, reason})});

/** Reserved stock went back on the shelf (compensation of a failed payment). */
export const StockReleased = defineEvent({type: 'inventory.released', description: 'Reserved stock was released (compensation).', schema: z.object({orderId, sku, quantity, level: z.number().int()})});

/** Ask the shop to add stock. */
export const Restock = defineEvent({type: 'inventory.restock', kind: 'command', description: 'Add stock of a product.', schema: z.object({sku, quantity})});

/** Stock was added. */
export const Restocked = defineEvent({type: 'inventory.restocked', description: 'Stock was added.', schema: z.object({sku, quantity, level: z.number().int()})});

/** The payment for an order went through. */
export const PaymentProcessed = defineEvent({type: 'payment.processed', description: 'An order was paid.', schema: z.object({orderId, amountCents: z.number().int().nonnegative()})});

/** The payment for an order failed: the saga compensates. */
export const PaymentFailed = defineEvent({type: 'payment.failed', description: 'A payment failed.', schema: z.object({orderId, reason})});

/** The order is paid and reserved: it will ship. */
export const OrderConfirmed = defineEvent({type: 'order.confirmed', description: 'An order was confirmed.', schema: z.object({orderId})});

/** The order left the warehouse. */
export const OrderShipped = defineEvent({type: 'order.shipped', description: 'An order shipped.', schema: z.object({orderId})});

/** The order will not be fulfilled; `compensated` lists what was undone. */
export const OrderCancelled = defineEvent({
  type: 'order.cancelled',
  description: 'An order was cancelled.',
  schema: z.object({orderId, reason, compensated: z.array(reason).max(20)}),
});

/** Something a person should see, pushed from the server. */
export const NotificationRaised = defineEvent({
  type: 'notification.raised',
  description: 'A notification for the user.',
  schema: z.object({level: z.enum(['info', 'warning', 'error']), message: z.string().max(500), orderId: orderId.optional()}),
});

/** A service could not handle an event after its retries. */
export const DeadLetterRecorded = defineEvent({
  type: 'deadletter.recorded',
  description: 'An event a service could not handle after retries.',
  schema: z.object({eventId: z.string().max(128), eventType, subscriber: z.string().max(128), error: reason, attempt: z.number().int()}),
});

const paymentFailureRate = z.number().min(0).max(1);

/** Ask the shop to change its settings (the demo's one: the share of payments that fail, 0 to 1). */
export const ChangeSettings = defineEvent({
  type: 'settings.change',
  kind: 'command',
  description: 'Change the share of payments that fail.',
  schema: z.object({paymentFailureRate}),
});

/** The shop's settings changed: every page showing them follows this event. */
export const SettingsChanged = defineEvent({
  type: 'settings.changed',
  description: 'The share of payments that fail changed.',
  schema: z.object({paymentFailureRate}),
});

/** Derived in the page by live metrics: too many of one kind of event in a time window. */
export const MetricsAlert = defineEvent({
  type: 'metrics.alert',
  description: 'Too many events of a kind within a window.',
  schema: z.object({kind: eventType, count: z.number().int(), windowMs: z.number().int()}),
});

/** Which event types travel on which server topic: pages follow a topic while they want its types. */
export const shopTopics: Readonly<Record<string, readonly string[]>> = {
  [ORDERS_TOPIC]: ['order.*', 'payment.*'],
  [INVENTORY_TOPIC]: ['inventory.*'],
  [NOTIFICATIONS_TOPIC]: ['notification.*', 'deadletter.*'],
  [SETTINGS_TOPIC]: ['settings.*'],
  // Deploys of the page's own apps (new versions, rollbacks), announced by the server's deploy registry.
  [DEPLOYS_TOPIC]: ['app.*'],
};

/** Commands the server handles: a page's hub bridge turns `bus.send()` of these into hub commands. */
export const shopCommands = [PlaceOrder, Restock, ChangeSettings] as const;

/** The hub bridge options every shop page uses: topics by interest, server commands. */
export const shopHub = {topics: shopTopics, commands: shopCommands};

/** Every contract of the shop, for registries in the page, the hub and the services. */
export const shopContracts = [
  PlaceOrder,
  OrderPlaced,
  StockReserved,
  ReservationFailed,
  StockReleased,
  Restock,
  Restocked,
  PaymentProcessed,
  PaymentFailed,
  OrderConfirmed,
  OrderShipped,
  OrderCancelled,
  NotificationRaised,
  DeadLetterRecorded,
  MetricsAlert,
  ChangeSettings,
  SettingsChanged,
  AppDeployed,
  AppRolledBack,
] as const;

/** A registry holding every shop contract. */
export function shopRegistry(): ContractRegistry {
  return new ContractRegistry().register(...shopContracts);
}

export {applyOrderEvent, ORDER_STEPS, ORDER_STREAM_TYPES, orderState} from './order-state.js';
export type {OrderState, OrderStatus} from './order-state.js';
