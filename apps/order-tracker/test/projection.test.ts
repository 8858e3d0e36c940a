import {describe, expect, it} from 'vitest';
import {MAX_TRACKED, project, type TrackedOrder} from '../src/projection';

const e = (type: string, data: Record<string, unknown>, correlationId = 'flow') => ({id: `${type}-${Math.random()}`, type, version: 1, time: 't', source: 's', correlationId, data});
const fold = (events: ReturnType<typeof e>[]) => events.reduce<ReadonlyMap<string, TrackedOrder>>(project, new Map());

describe('the order tracker’s projection', () => {
  it('moves an order through every step to shipped', () => {
    const steps = ['inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped'];
    let orders = fold([e('order.placed', {orderId: 'o', sku: 'tea', quantity: 2})]);
    const seen = [orders.get('o')!.status];
    for (const step of steps) seen.push((orders = project(orders, e(step, {orderId: 'o'}))).get('o')!.status);
    expect(seen).toEqual(['placed', 'reserved', 'paid', 'confirmed', 'shipped']);
    expect(orders.get('o')).toMatchObject({sku: 'tea', quantity: 2, correlationId: 'flow'});
  });

  it('shows a cancellation with what was compensated, and nothing moves it afterwards', () => {
    const orders = fold([
      e('order.placed', {orderId: 'o', sku: 'tea', quantity: 1}),
      e('inventory.reserved', {orderId: 'o'}),
      e('payment.failed', {orderId: 'o', reason: 'declined'}),
      e('inventory.released', {orderId: 'o'}),
      e('order.cancelled', {orderId: 'o', reason: 'Payment failed: declined', compensated: ['released 1 × tea']}),
      e('order.shipped', {orderId: 'o'}),
    ]);
    expect(orders.get('o')).toMatchObject({status: 'cancelled', reason: 'Payment failed: declined', compensated: ['released 1 × tea']});
  });

  it('ignores events of unknown orders, events without an order, steps backwards and a second placement', () => {
    const orders = fold([
      e('payment.processed', {orderId: 'ghost'}),
      e('inventory.restocked', {sku: 'tea', quantity: 5}),
      e('order.placed', {orderId: 'o', sku: 'tea', quantity: 1}),
      e('order.confirmed', {orderId: 'o'}),
      e('inventory.reserved', {orderId: 'o'}),
      e('order.placed', {orderId: 'o', sku: 'other', quantity: 9}),
    ]);
    expect([...orders.keys()]).toEqual(['o']);
    expect(orders.get('o')).toMatchObject({status: 'confirmed', sku: 'tea', quantity: 1});
  });

  it('keeps only the most recent MAX_TRACKED orders, dropping the oldest first', () => {
    const orders = fold(Array.from({length: MAX_TRACKED + 10}, (_, i) => e('order.placed', {orderId: `o${i}`, sku: 'tea', quantity: 1})));
    expect(orders.size).toBe(MAX_TRACKED);
    expect(orders.has('o0')).toBe(false);
    expect(orders.has(`o${MAX_TRACKED + 9}`)).toBe(true);
  });
});
