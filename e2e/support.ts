import {expect, type Page} from '@playwright/test';

/** A valid order.placed envelope with a fresh id. */
export function orderPlaced(orderId: string, source = 'e2e:producer'): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type: 'order.placed',
    version: 1,
    time: new Date().toISOString(),
    source,
    correlationId: `flow-${orderId}`,
    data: {orderId, sku: 'tea-assam', quantity: 3},
  };
}

/** Collects console errors and uncaught page errors; assert it is empty at the end of a test. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Waits until the page's hub connection reports `connected`. */
export async function hubConnected(page: Page): Promise<void> {
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
}

/**
 * Waits until the shell is ready for a test: the hub is connected, every app tile has mounted (or
 * failed), and the page follows `topic`. Topics follow interest, so an event published before an
 * app wants its topic is rightly never shown: tests publish only after this.
 */
export async function shellReady(page: Page, topic = 'orders'): Promise<void> {
  await hubConnected(page);
  await expect(page.locator('.tile:not([data-state])')).toHaveCount(0);
  await expect
    .poll(() =>
      page.evaluate((t) => {
        const hubs = (globalThis as Record<symbol, Map<string, {following: string[]}>>)[Symbol.for('switchboard.page-hubs')];
        return hubs !== undefined && [...hubs.values()].some((h) => h.following.includes(t));
      }, topic),
    )
    .toBe(true);
}
