import {expect, test, type Page} from '@playwright/test';
import {appsSettled, pageErrors, shellReady} from './support';

// Each test loads the whole shell (and React) in a fresh page: give them room on a busy machine.
test.describe.configure({timeout: 60_000});

/** The apps shown now, by their tiles' names. */
async function tiles(page: Page): Promise<string[]> {
  return page.locator('#shell .tile').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['app']!));
}

test('a deep link renders its route; links navigate without a page load; back and forward', async ({page}) => {
  const errors = pageErrors(page);
  await page.goto('/ops');
  await shellReady(page, 'orders');
  expect(await tiles(page)).toEqual(['live-metrics', 'activity-feed']);
  await expect(page).toHaveTitle(/^Operations · /);
  await expect(page.getByRole('link', {name: 'Operations'})).toHaveAttribute('aria-current', 'page');
  // A marker on window survives History API navigation, not a page load.
  await page.evaluate(() => ((window as unknown as {marker: number}).marker = 42));

  await page.getByRole('link', {name: 'Shop'}).click();
  await expect(page).toHaveURL(/\/$/);
  await appsSettled(page);
  expect(await tiles(page)).toEqual(['order-form', 'order-tracker', 'inventory', 'notifications', 'live-metrics', 'activity-feed']);
  await expect(page.locator('.tile[data-state="ready"]')).toHaveCount(6);

  await page.goBack();
  await expect(page).toHaveURL(/\/ops$/);
  await appsSettled(page);
  expect(await tiles(page)).toEqual(['live-metrics', 'activity-feed']);
  await page.goForward();
  await expect(page).toHaveURL(/\/$/);
  await appsSettled(page);
  expect(await tiles(page)).toHaveLength(6);
  expect(await page.evaluate(() => (window as unknown as {marker?: number}).marker)).toBe(42);
  expect(errors).toEqual([]);
});

test('a nested route adds its slot to its parent\'s', async ({page}) => {
  await page.goto('/shipments/o-123');
  await appsSettled(page);
  await expect(page.locator('[data-slot="main"] .tile')).toHaveCount(2);
  await expect(page.locator('[data-slot="side"] .tile[data-app="order-tracker"]')).toHaveAttribute('data-state', 'ready');
  await expect(page).toHaveTitle(/^Shipment · /);
  await page.getByRole('link', {name: 'Shipments'}).click();
  await expect(page.locator('[data-slot="side"]')).toBeHidden();
  await expect(page.locator('.tile[data-app="order-tracker"]')).toHaveCount(0);
});

test('a path no route matches shows the default (404) route, and the way back', async ({page}) => {
  const errors = pageErrors(page);
  await page.goto('/no/such/page');
  await expect(page.locator('.sb-not-found')).toContainText('Not found');
  await expect(page.locator('.sb-not-found')).toContainText('There is no page here.');
  await expect(page.locator('#shell .tile')).toHaveCount(0);
  await expect(page).toHaveTitle(/^Not found · /);
  await page.getByRole('link', {name: 'Shop'}).click();
  await expect(page.locator('.sb-not-found')).toHaveCount(0);
  await appsSettled(page);
  await expect(page.locator('.tile[data-state="ready"]')).toHaveCount(6);
  expect(errors).toEqual([]);
});

test('hovering a link preloads the modules of its route', async ({page}) => {
  await page.goto('/ops');
  await appsSettled(page);
  const lookup = await page.evaluate(async () => ((await (await fetch('/manifest.json')).json()) as {apps: {name: string; module: string}[]}).apps.find((a) => a.name === 'order-lookup')!.module);
  await page.getByRole('link', {name: 'Shipments'}).hover();
  await expect(page.locator(`link[rel="modulepreload"][href="${lookup}"]`)).toHaveCount(1);
});

test('100 route changes leave no subscriptions, DOM listeners, pending requests or followed topics behind', async ({page}) => {
  test.setTimeout(90_000);
  const errors = pageErrors(page);
  await page.goto('/ops');
  await shellReady(page, 'orders');
  type Stats = {frames: number; bus: Record<string, number>; hub: Record<string, number>};
  const stats = (): Promise<Stats> =>
    page.evaluate(() => (globalThis as unknown as Record<symbol, {stats(): Stats}>)[Symbol.for('switchboard.shell')]!.stats());
  // Once every app of each route ran at least once, what one visit to /ops holds is the baseline.
  const before = await stats();
  const changed = await page.evaluate(async () => {
    type Shell = {navigate(path: string): void};
    const shell = (globalThis as unknown as Record<symbol, Shell>)[Symbol.for('switchboard.shell')]!;
    const settled = async (): Promise<void> => {
      for (;;) {
        if (document.querySelector('.tile[data-state="loading"]') === null) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const paths = ['/', '/shipments', '/shipments/o-1', '/ops'];
    let n = 0;
    for (; n < 100; n++) {
      shell.navigate(paths[n % paths.length]!);
      // Every other change leaves before the apps finished mounting; the rest after.
      if (n % 2 === 1) await settled();
    }
    shell.navigate('/ops');
    await settled();
    return n + 1;
  });
  expect(changed).toBe(101);
  await appsSettled(page);
  // Unfollowing is a round trip to the hub: wait for the followed topics to come back down.
  await expect.poll(async () => (await stats()).hub).toEqual(before.hub);
  const after = await stats();
  expect(after.frames).toBe(2);
  expect(after.bus).toEqual(before.bus);
  expect(after.bus['pendingRequests']).toBe(0);
  expect(errors).toEqual([]);
});
