import {OrderConfirmed, OrderShipped} from '@switchboard/shop-contracts';
import type {ServiceContext} from './services';

/** The shipping service: ships a confirmed order after a delay, so the saga's steps are visible. */
export function shippingService(ctx: ServiceContext, delayMs: number): void {
  const shipped = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  ctx.defer(() => timers.forEach(clearTimeout));
  // Done once shipped, not when the wait begins: on Redis the event is acknowledged only then, so a
  // node that dies while waiting leaves it to another node. The same order handled again (after an
  // outage) waits for the shipment under way.
  const shipping = new Map<string, Promise<void>>();
  ctx.on(OrderConfirmed, 'shipping', (e) => {
    const under = shipping.get(e.data.orderId);
    if (under !== undefined) return under;
    if (shipped.has(e.data.orderId)) return;
    shipped.add(e.data.orderId);
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        shipping.delete(e.data.orderId);
        // After a wait the handled event is no longer implicit: name it as the cause.
        ctx.bus.publish(OrderShipped, {orderId: e.data.orderId}, {source: 'service:shipping', parent: e});
        resolve();
      }, delayMs);
      timers.add(timer);
    });
    shipping.set(e.data.orderId, done);
    return done;
  });
}
