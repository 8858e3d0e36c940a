import { ContractRegistry, defineEvent } from '@switchboard/contracts';
import { z } from 'zod';
/**
 * The contracts the hub's own tests use: a small order domain, independent of the demo shop, so the
 * library is tested without depending on any application.
 */
export const PlaceOrder = defineEvent({
    type: 'order.place',
    kind: 'command',
    description: 'Place an order for quantity units of sku.',
    schema: z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(100) }),
});
/** A customer placed an order. */
export const OrderPlaced = defineEvent({
    type: 'order.placed',
    version: 1,
    description: 'A customer placed an order.',
    schema: z.object({ orderId: z.string().min(1).max(64), sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(1000) }),
});
/** A registry with the test contracts. */
export function testRegistry() {
    return new ContractRegistry().register(PlaceOrder, OrderPlaced);
}
