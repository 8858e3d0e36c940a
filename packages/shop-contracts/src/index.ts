import {ContractRegistry, defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

/** The server topic that carries the shop's order events. */
export const ORDERS_TOPIC = 'orders';

/** A customer placed an order for `quantity` units of `sku`. */
export const OrderPlaced = defineEvent({
  type: 'order.placed',
  version: 1,
  description: 'A customer placed an order.',
  schema: z.object({
    orderId: z.string().min(1).max(64),
    sku: z.string().min(1).max(64),
    quantity: z.number().int().positive().max(1000),
  }),
});

/** Which event types travel on which server topic: pages follow a topic while they want its types. */
export const shopTopics: Readonly<Record<string, readonly string[]>> = {[ORDERS_TOPIC]: ['order.*']};

/** Every contract of the shop, for registries in the page, the hub and the services. */
export const shopContracts = [OrderPlaced] as const;

/** A registry holding every shop contract. */
export function shopRegistry(): ContractRegistry {
  return new ContractRegistry().register(...shopContracts);
}
