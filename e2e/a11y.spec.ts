/**
 * Accessibility: axe-core (through @axe-core/playwright) finds no violations on the shell, with the
 * event timeline open, on a phone, and on every app alone.
 */
import AxeBuilder from '@axe-core/playwright';
import {expect, test, type Page} from '@playwright/test';
import {orderPlaced, pageHubs, producer, shellReady} from './support';

const APPS = ['order-form', 'order-tracker', 'inventory', 'notifications', 'live-metrics', 'activity-feed'];

async function violations(page: Page): Promise<string[]> {
  const {violations} = await new AxeBuilder({page}).analyze();
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('the shell has no axe violations, with content in every app', async ({page, request}) => {
  await page.goto('/');
  await shellReady(page);
  await request.post('/api/topics/orders/events', {data: orderPlaced(`o-a11y-${Date.now()}`), headers: producer});
  await expect(page.locator('shop-activity-feed li').first()).toBeVisible();
  expect(await violations(page)).toEqual([]);
});

test('the open event timeline has no axe violations', async ({page, request}) => {
  await page.goto('/');
  await shellReady(page);
  await request.post('/api/topics/orders/events', {data: orderPlaced(`o-tl-${Date.now()}`), headers: producer});
  await page.getByRole('button', {name: 'Event timeline'}).click();
  await expect(page.locator('sb-event-log')).toBeVisible();
  await expect(page.locator('sb-event-log li:not([data-app])').first()).toBeVisible();
  await page.locator('sb-event-log li:not([data-app])').first().click();
  expect(await violations(page)).toEqual([]);
});

test.describe('on a phone', () => {
  test.use({viewport: {width: 390, height: 844}, isMobile: true, hasTouch: true});
  test('the shell has no axe violations, and the timeline opens where it can be seen', async ({page}) => {
    await page.goto('/');
    await shellReady(page);
    expect(await violations(page)).toEqual([]);
    await page.getByRole('button', {name: 'Event timeline'}).click();
    await expect(page.locator('sb-event-log')).toBeInViewport();
    expect(await violations(page)).toEqual([]);
  });
});

for (const app of APPS) {
  test(`${app} alone has no axe violations`, async ({page}) => {
    await page.goto(`/alone/${app}.html`);
    const tag = `shop-${app}`;
    await expect(page.locator(tag)).toBeAttached();
    await expect.poll(() => page.evaluate((t) => document.querySelector(t)?.shadowRoot?.childElementCount ?? 0, tag)).toBeGreaterThan(0);
    await expect.poll(async () => (await pageHubs(page)).map((h) => h.status)).toEqual(['connected']);
    expect(await violations(page)).toEqual([]);
  });
}
