import {OrderConfirmed, OrderShipped} from '@switchboard/shop-contracts';
import type {ServiceContext} from './services';

/** The shipping service: ships a confirmed order after a delay, so the saga's steps are visible. */
export function shippingService(ctx: ServiceContext, delayMs: number): void {
  const shipped = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  ctx.defer(() => timers.forEach(clearTimeout));
  ctx.on(OrderConfirmed, 'shipping', (e) => {
    if (shipped.has(e.data.orderId)) return;
    shipped.add(e.data.orderId);
    const timer = setTimeout(() => {
      timers.delete(timer);
      // After a wait the handled event is no longer implicit: name it as the cause.
      ctx.bus.publish(OrderShipped, {orderId: e.data.orderId}, {source: 'service:shipping', parent: e});
    }, delayMs);
    timers.add(timer);
  });
}
