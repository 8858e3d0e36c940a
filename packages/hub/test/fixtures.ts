import {ContractRegistry, defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

/**
 * The contracts the hub's own tests use: a small order domain, independent of the demo shop, so the
 * library is tested without depending on any application.
 */
export const PlaceOrder = defineEvent({
  type: 'order.place',
  kind: 'command',
  description: 'Place an order for quantity units of sku.',
  schema: z.object({sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(100)}),
});

/** A customer placed an order. */
export const OrderPlaced = defineEvent({
  type: 'order.placed',
  version: 1,
  description: 'A customer placed an order.',
  schema: z.object({orderId: z.string().min(1).max(64), sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(1000)}),
});

/** A payment failed: a server-owned type in the policy tests. */
export const PaymentFailed = defineEvent({
  type: 'payment.failed',
  description: 'A payment failed.',
  schema: z.object({orderId: z.string().min(1).max(64), reason: z.string().max(200)}),
});

/** A note on a cart: what pages may publish in the policy tests. */
export const CartNoted = defineEvent({
  type: 'cart.noted',
  description: 'A customer wrote a note on the cart.',
  schema: z.object({note: z.string().max(200)}),
});

/** A registry with the test contracts. */
export function testRegistry(): ContractRegistry {
  return new ContractRegistry().register(PlaceOrder, OrderPlaced, PaymentFailed, CartNoted);
}
