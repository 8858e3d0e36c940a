import type {Envelope} from '@switchboard/contracts';
import {NotificationRaised, OrderShipped, PaymentFailed, StockReserved} from '@switchboard/shop-contracts';
import {NAME, type ServiceContext} from './services';

/** The notifications service: turns shipped orders, failed payments and low stock into notifications. */
export function notificationsService(ctx: ServiceContext, lowStockAt: number): void {
  const notify = (e: Envelope, level: 'info' | 'warning' | 'error', message: string, orderId?: string): void =>
    void ctx.bus.publish(NotificationRaised, {level, message, ...(orderId === undefined ? {} : {orderId})}, {source: 'service:notifications', parent: e});
  ctx.on(OrderShipped, 'notifications', (e) => notify(e, 'info', `Order ${e.data.orderId} has shipped.`, e.data.orderId));
  ctx.on(PaymentFailed, 'notifications', (e) => notify(e, 'error', `Payment for order ${e.data.orderId} failed: ${e.data.reason}.`, e.data.orderId));
  ctx.on(StockReserved, 'notifications', (e) => {
    if (e.data.level <= lowStockAt) notify(e, 'warning', `Low stock: ${e.data.level} × ${NAME.get(e.data.sku)} left.`);
  });
}
