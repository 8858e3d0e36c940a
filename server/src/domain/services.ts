import type {Bus, TypePattern} from '@switchboard/bus';
import type {Contract, Envelope, EnvelopeOf} from '@switchboard/contracts';
import type {EventService} from '@switchboard/hub';
import {PRODUCTS} from '@switchboard/shop-contracts';

/** What every shop service is given: the server bus and the hub's topics, and where to register its clean-up. */
export interface ServiceContext {
  /** The server's bus: the services' only way to talk to each other. */
  readonly bus: Bus;
  /** Where a service answers commands: the hub's (a services process on RabbitMQ leaves commands to the hub). */
  readonly events: Pick<EventService, 'handle'>;
  /** A service's subscription to one contract: retried, then dead-lettered. */
  on<C extends Contract>(contract: C, service: string, handler: (e: EnvelopeOf<C>) => void | Promise<void>): void;
  /** Registers what to undo on `Shop.close()` (a subscription, a command handler, a timer). */
  defer(stop: () => void): void;
  /**
   * Derived state (a projection) following events on the bus. On Redis the topics can be lost or
   * cut (Redis lost its data): then `reset` empties the state and `handler` is given what is left.
   */
  project(target: TypePattern, name: string, handler: (e: Envelope) => void, reset?: () => void): void;
  /**
   * A new id for what a handler creates (an order). On Redis, called while a command is handled,
   * it is derived from the command's id, so a command sent again (after an answer lost in an
   * outage) names the same order and is stored once; otherwise random.
   */
  newId(purpose: string): string;
}

/**
 * Commands a service decides on its own state, by the service that owns it. Where the services run
 * elsewhere (on RabbitMQ) the hub does not answer these from its copy of that state: they go to
 * the service (RPC through its queue), so the copy that decides is the one every event changes.
 */
export const SERVICE_COMMANDS: ReadonlyMap<string, string> = new Map([['inventory.restock', 'inventory']]);

/** Price of each product in cents, by sku. */
export const PRICE = new Map<string, number>(PRODUCTS.map((p) => [p.sku, p.priceCents]));
/** Display name of each product, by sku. */
export const NAME = new Map<string, string>(PRODUCTS.map((p) => [p.sku, p.name]));

/** A handled event's order id (every order-stream event carries one). */
export function orderIdOf(e: Envelope): string {
  return (e.data as {orderId: string}).orderId;
}

/** Default of the shop's `maxOrders`: orders the demo keeps in its store and read model. */
export const DEFAULT_MAX_ORDERS = 1000;

/**
 * Keeps `orders` (insertion order: oldest first) at most `max` long by dropping the oldest
 * finished ones (shipped or cancelled); orders still in flight are never dropped, so the saga can
 * finish them. Scans from the oldest and stops at the first it may keep once under the bound.
 */
export function dropOldestFinished<T>(orders: Map<string, T>, max: number, finished: (order: T) => boolean): void {
  if (orders.size <= max) return;
  for (const [orderId, order] of orders) {
    if (orders.size <= max) return;
    if (finished(order)) orders.delete(orderId);
  }
}
