import {describe, expect, it} from 'vitest';
import {SlidingWindow} from '../src/sliding-window';

describe('the sliding window', () => {
  it('counts events per type within the window, forgetting older ones', () => {
    const w = new SlidingWindow(60_000);
    expect(w.add('payment.failed', 0)).toBe(1);
    expect(w.add('payment.failed', 30_000)).toBe(2);
    w.add('order.placed', 30_000);
    expect(w.count('payment.failed', 59_999)).toBe(2);
    expect(w.count('payment.failed', 60_000)).toBe(1);
    expect(w.counts(60_000)).toEqual([
      ['payment.failed', 1],
      ['order.placed', 1],
    ]);
    expect(w.counts(200_000)).toEqual([]);
  });
});
