import {describe, expect, it} from 'vitest';
import {retryDelay} from '../src/lib/retry-policy.js';

describe('retryDelay', () => {
  it('tries the first time at once, whatever the spread', () => {
    expect(retryDelay(1, {}, () => 0.99)).toBe(0);
    expect(retryDelay(1, {jitter: 1}, () => 0.99)).toBe(0);
  });

  it('spreads later waits evenly from 0.5× to 1.5× of the doubling, capped', () => {
    expect([0, 0.5, 0.999].map((r) => retryDelay(2, {}, () => r))).toEqual([125, 250, 375]);
    expect([0, 0.5, 0.999].map((r) => retryDelay(4, {}, () => r))).toEqual([500, 1000, 1499]);
    expect(retryDelay(30, {maxDelayMs: 2000}, () => 0.5)).toBe(2000);
  });

  it('keeps the median wait where it was: half the pages retry no later than without a spread', () => {
    let seed = 7;
    // A small deterministic generator, so the test cannot flake.
    const random = () => ((seed = (seed * 48_271) % 2_147_483_647) - 1) / 2_147_483_646;
    const waits = Array.from({length: 1001}, () => retryDelay(2, {}, random)!).sort((a, b) => a - b);
    expect(waits[0]).toBeGreaterThanOrEqual(125);
    expect(waits[1000]).toBeLessThanOrEqual(375);
    expect(Math.abs(waits[500]! - 250)).toBeLessThan(20);
    expect(new Set(waits).size).toBeGreaterThan(100);
  });

  it('waits exactly with jitter 0, and gives up after maxAttempts', () => {
    expect([2, 3, 4].map((a) => retryDelay(a, {jitter: 0}, () => 0.9))).toEqual([250, 500, 1000]);
    expect(retryDelay(4, {maxAttempts: 3})).toBeNull();
  });

  it('clamps a spread outside 0…1', () => {
    expect(retryDelay(2, {jitter: 5}, () => 0)).toBe(0);
    expect(retryDelay(2, {jitter: -1}, () => 0)).toBe(250);
  });
});
