import {HubError} from '@switchboard/hub';
import {OrderPlaced, PaymentFailed, ReservationFailed, Restock, Restocked, StockReleased, StockReserved} from '@switchboard/shop-contracts';
import {NAME, type ServiceContext} from './services';

/**
 * The inventory service: reserves stock for placed orders (or refuses), releases it when a payment
 * fails (the saga's compensation), and takes the `inventory.restock` command.
 */
export function inventoryService(ctx: ServiceContext, initialStock: ReadonlyMap<string, number>): void {
  const {bus} = ctx;
  /** Inventory's write model: units on the shelf, and what each order holds. */
  const stock = new Map(initialStock);
  const reservations = new Map<string, {sku: string; quantity: number}>();
  /**
   * This service's own events whose levels it set when it decided. On streams the projection hears
   * them later, after decisions made since: applying their (older) levels then would put back stock
   * already reserved, and the next order could take it again. Bounded: in memory the projection
   * hears them during publish, before they are noted, and they are never removed.
   */
  const decided = new Set<string>();
  /**
   * Restocks done, by the command's id, with the level they set: a command delivered again (its
   * first handler died before acknowledging it) answers the same and adds nothing. Bounded.
   */
  const restocks = new Map<string, number>();
  const noteDecided = (id: string): void => {
    decided.add(id);
    if (decided.size > 10_000) decided.delete(decided.values().next().value!);
  };
  // The write model follows inventory's own events too, whichever node published them: with several
  // nodes (consumer groups) another node may have handled the last order, and a rebuild replays them.
  ctx.project(
    'inventory.*',
    'service:inventory-projection',
    (e) => {
      const {orderId, sku, quantity, level} = e.data as {orderId?: string; sku?: string; quantity?: number; level?: number};
      const mine = decided.delete(e.id);
      if (!mine && typeof sku === 'string' && typeof level === 'number' && stock.has(sku)) stock.set(sku, level);
      if (e.type === 'inventory.restocked' && e.causationId !== undefined && typeof level === 'number') {
        restocks.set(e.causationId, level);
        if (restocks.size > 10_000) restocks.delete(restocks.keys().next().value!);
      }
      if (typeof orderId !== 'string' || typeof sku !== 'string' || typeof quantity !== 'number') return;
      if (e.type === 'inventory.reserved') reservations.set(orderId, {sku, quantity});
      else if (e.type === 'inventory.released') reservations.set(orderId, {sku, quantity: 0});
    },
    () => {
      for (const [sku, level] of initialStock) stock.set(sku, level);
      reservations.clear();
      decided.clear();
      restocks.clear();
    },
  );
  ctx.on(OrderPlaced, 'inventory', (e) => {
    const {orderId, sku, quantity} = e.data;
    if (reservations.has(orderId)) return; // already handled: a redelivery changes nothing
    const level = stock.get(sku);
    if (level === undefined) throw new Error(`inventory has no product "${sku}"`);
    if (level < quantity) {
      bus.publish(ReservationFailed, {orderId, sku, quantity, reason: `Only ${level} × ${NAME.get(sku)} left`}, {source: 'service:inventory'});
      return;
    }
    stock.set(sku, level - quantity);
    reservations.set(orderId, {sku, quantity});
    noteDecided(bus.publish(StockReserved, {orderId, sku, quantity, level: level - quantity}, {source: 'service:inventory'}).id);
  });
  ctx.on(PaymentFailed, 'inventory', (e) => {
    const held = reservations.get(e.data.orderId);
    if (held === undefined || held.quantity === 0) return;
    const level = (stock.get(held.sku) ?? 0) + held.quantity;
    stock.set(held.sku, level);
    reservations.set(e.data.orderId, {sku: held.sku, quantity: 0});
    noteDecided(bus.publish(StockReleased, {orderId: e.data.orderId, sku: held.sku, quantity: held.quantity, level}, {source: 'service:inventory'}).id);
  });
  ctx.defer(
    ctx.events.handle(Restock, (command) => {
      const done = restocks.get(command.id);
      if (done !== undefined) return {level: done};
      const level = stock.get(command.data.sku);
      if (level === undefined) throw new HubError(`Unknown product "${command.data.sku}".`);
      const next = level + command.data.quantity;
      stock.set(command.data.sku, next);
      noteDecided(bus.publish(Restocked, {sku: command.data.sku, quantity: command.data.quantity, level: next}, {source: 'service:inventory', parent: command}).id);
      return {level: next};
    }),
  );
}
