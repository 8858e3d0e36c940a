import {describe, expect, it} from 'vitest';
import {applyOrderEvent, orderState} from '../src/index.js';

const e = (type: string, data: Record<string, unknown> = {orderId: 'o'}) => ({id: `${type}-${Math.random()}`, type, version: 1, time: 't', source: 's', correlationId: 'flow', data});

describe('the shared order fold', () => {
  it('never moves an order backwards: a late reservation after confirmation stays confirmed, in the history', () => {
    const state = orderState([e('order.placed', {orderId: 'o', sku: 'tea', quantity: 1}), e('order.confirmed'), e('inventory.reserved')]);
    expect(state?.status).toBe('confirmed');
    expect(state?.history.map((h) => h.type)).toEqual(['order.placed', 'order.confirmed', 'inventory.reserved']);
  });

  it('ends at shipped or cancelled, and only order.placed starts an order', () => {
    expect(applyOrderEvent(undefined, e('payment.processed'))).toBeUndefined();
    const shipped = orderState([e('order.placed', {orderId: 'o', sku: 'tea', quantity: 1}), e('order.shipped'), e('order.cancelled', {orderId: 'o', reason: 'late'})]);
    expect(shipped?.status).toBe('shipped');
  });
});
