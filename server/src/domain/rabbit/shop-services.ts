import {Bus} from '@switchboard/bus';
import type {Contract} from '@switchboard/contracts';
import {PRODUCTS, shopRegistry} from '@switchboard/shop-contracts';
import {inventoryService} from '../inventory';
import {notificationsService} from '../notifications';
import {ordersService} from '../orders';
import {paymentsService} from '../payments';
import type {ServiceContext} from '../services';
import {settingsService} from '../settings';
import {shippingService} from '../shipping';

/** The shop's settings a services process runs with (the hub's `Shop` takes the same). */
export interface ShopServiceSettings {
  /** Share of payments that fail, 0 to 1, until a `settings.changed` event says otherwise; default 0.2. */
  readonly paymentFailureRate?: number;
  /** Randomness for payments; `Math.random` by default. */
  readonly random?: () => number;
  /** Wait before an order ships; default 800 ms. */
  readonly shippingDelayMs?: number;
  /** Units of each product on the shelf at start; default 20 each (as the hub's read model assumes). */
  readonly initialStock?: Readonly<Record<string, number>>;
  /** At or below this level a low-stock warning is raised; default 5. */
  readonly lowStockAt?: number;
  /** Orders kept in the orders service's store; default 1,000. */
  readonly maxOrders?: number;
}

/**
 * Registers the shop's five services (and the settings they follow) on `ctx`, as the hub's `Shop`
 * does in process: the same handlers, the same saga.
 */
export function registerShopServices(ctx: ServiceContext, settings: ShopServiceSettings): void {
  const initialRate = settings.paymentFailureRate ?? 0.2;
  let rate = initialRate;
  const stock = new Map<string, number>(PRODUCTS.map((p) => [p.sku, settings.initialStock?.[p.sku] ?? 20]));
  ordersService(ctx, settings.maxOrders);
  inventoryService(ctx, stock);
  paymentsService(ctx, () => rate, settings.random ?? Math.random);
  shippingService(ctx, settings.shippingDelayMs ?? 800);
  notificationsService(ctx, settings.lowStockAt ?? 5);
  settingsService(ctx, (r) => (rate = r), () => false, () => (rate = initialRate));
}

/** Each service's event types, as {@link registerShopServices} subscribes them: what the hub binds the services' queues to. */
export function shopServiceTypes(): ReadonlyMap<string, readonly string[]> {
  const types = new Map<string, string[]>();
  const stops: Array<() => void> = [];
  const ctx: ServiceContext = {
    bus: new Bus({registry: shopRegistry(), traceCapacity: 0}),
    events: {handle: () => () => {}},
    on: (contract: Contract, service: string) => void types.set(service, [...(types.get(service) ?? []), contract.type]),
    defer: (stop) => void stops.push(stop),
    project: () => {},
    newId: () => '',
  };
  registerShopServices(ctx, {});
  for (const stop of stops) stop();
  return types;
}
