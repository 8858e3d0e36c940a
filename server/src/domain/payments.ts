import {PaymentFailed, PaymentProcessed, StockReserved} from '@switchboard/shop-contracts';
import {PRICE, type ServiceContext} from './services';

/** The payments service: charges an order once its stock is reserved; a share of payments fail. */
export function paymentsService(ctx: ServiceContext, failureRate: () => number, random: () => number): void {
  const charged = new Set<string>();
  ctx.on(StockReserved, 'payments', (e) => {
    if (charged.has(e.data.orderId)) return;
    charged.add(e.data.orderId);
    if (random() < failureRate()) {
      ctx.bus.publish(PaymentFailed, {orderId: e.data.orderId, reason: 'Card declined'}, {source: 'service:payments'});
    } else {
      ctx.bus.publish(PaymentProcessed, {orderId: e.data.orderId, amountCents: (PRICE.get(e.data.sku) ?? 0) * e.data.quantity}, {source: 'service:payments'});
    }
  });
}
