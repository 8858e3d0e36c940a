import {expect, test, type Page} from '@playwright/test';
import {appsSettled, pageErrors} from './support';

// Each test loads the whole shell (and React) in a fresh page: give them room on a busy machine.
test.describe.configure({timeout: 60_000});

/** The order-lookup app's composition entry, as the server has it. */
async function lookupEntry(page: Page): Promise<{module: string; standalone: string}> {
  const response = await page.request.get('/composition.json');
  const {apps} = (await response.json()) as {apps: {name: string; module: string; standalone: string}[]};
  return apps.find((a) => a.name === 'order-lookup')!;
}

test('a module that fails twice is retried with backoff and then loads', async ({page}) => {
  const {module} = await lookupEntry(page);
  const tries: string[] = [];
  await page.route(`**${module}*`, async (route) => {
    tries.push(new URL(route.request().url()).search);
    if (tries.length <= 2) await route.abort('failed');
    else await route.continue();
  });
  await page.goto('/shipments');
  const tile = page.locator('.tile[data-app="order-lookup"]');
  await expect(tile).toHaveAttribute('data-state', 'ready');
  await expect(tile).toHaveAttribute('data-variant', 'module');
  await expect(tile.locator('shop-order-lookup')).toHaveCount(1);
  // The first try asks for the URL itself; each retry asks again (a browser may keep a failed module fetch).
  expect(tries).toEqual(['', '?sb-retry=2', '?sb-retry=3']);
});

test('a module that never loads falls back to its standalone variant', async ({page}) => {
  const {module, standalone} = await lookupEntry(page);
  let refused = 0;
  await page.route(`**${module}*`, async (route) => {
    refused++;
    await route.abort('failed');
  });
  await page.goto('/shipments');
  const tile = page.locator('.tile[data-app="order-lookup"]');
  await expect(tile).toHaveAttribute('data-state', 'ready');
  await expect(tile).toHaveAttribute('data-variant', 'standalone');
  expect(refused).toBe(3);
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  expect(loaded).toContain(standalone);
  // The other app of the route was not held up, and still works.
  await expect(page.locator('.tile[data-app="notifications"]')).toHaveAttribute('data-state', 'ready');
});

test('when both variants fail, the slot shows the error and the rest of the page works', async ({page}) => {
  const errors = pageErrors(page);
  const {module, standalone} = await lookupEntry(page);
  await page.route(`**${module}*`, (route) => route.abort('failed'));
  await page.route(`**${standalone}*`, (route) => route.fulfill({status: 503, body: 'down'}));
  await page.goto('/shipments');
  const tile = page.locator('.tile[data-app="order-lookup"]');
  await expect(tile).toHaveAttribute('data-state', 'failed');
  await expect(tile.getByRole('alert')).toContainText('Recent orders is unavailable');
  await expect(page.locator('.tile[data-app="notifications"]')).toHaveAttribute('data-state', 'ready');
  // Leaving the route and coming back tries again.
  await page.unrouteAll();
  await page.getByRole('link', {name: 'Operations'}).click();
  await appsSettled(page);
  await page.getByRole('link', {name: 'Shipments'}).click();
  await expect(tile).toHaveAttribute('data-state', 'ready');
  // What failed was reported as failed loads, nothing else.
  expect(errors.filter((e) => !/Failed to load resource|Failed to fetch dynamically imported module|order-lookup/.test(e))).toEqual([]);
});

test('a slow app shows its loading content and holds up no other app', async ({page}) => {
  const {module} = await lookupEntry(page);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(`**${module}*`, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/shipments');
  const tile = page.locator('.tile[data-app="order-lookup"]');
  await expect(tile).toHaveAttribute('data-state', 'loading');
  await expect(tile).toHaveAttribute('aria-busy', 'true');
  await expect(tile).toContainText('Loading Recent orders…');
  await expect(page.locator('.tile[data-app="notifications"]')).toHaveAttribute('data-state', 'ready');
  release();
  await expect(tile).toHaveAttribute('data-state', 'ready');
  await expect(tile).not.toHaveAttribute('aria-busy', 'true');
});

test('the shell shows a clear error page while the composition cannot be loaded, then recovers', async ({page}) => {
  let failing = true;
  // The server puts the composition into the page itself: take it out, so the shell has to fetch it.
  await page.route('**/ops', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/<script type="application\/json" id="switchboard-composition">[\s\S]*?<\/script>/, '');
    await route.fulfill({response, body});
  });
  await page.route('**/composition.json', (route) => (failing ? route.fulfill({status: 503, body: 'registry down'}) : route.continue()));
  await page.route('**/manifest.json', (route) => (failing ? route.abort('failed') : route.continue()));
  await page.goto('/ops');
  const error = page.locator('.sb-shell-error');
  await expect(error).toBeVisible();
  await expect(error.getByRole('heading')).toHaveText('This page could not load its apps');
  await expect(error).toContainText('/composition.json: HTTP 503');
  await expect(error).toContainText('/manifest.json');
  await expect(error).toContainText(/trying again in \d+ s/);
  // Backoff: each failure waits twice as long as the one before (1 s, 2 s, 4 s…, at most 30 s),
  // whether the try was the page's own or "Try now". The page keeps retrying on its own, so the
  // attempt a click makes is read from the page (data-shell-error), never assumed.
  const attempt = async () => Number((await page.locator('[data-shell-error]').getAttribute('data-shell-error')) ?? 0);
  const before = await attempt();
  expect(before).toBeGreaterThan(0);
  await error.getByRole('button', {name: 'Try now'}).click();
  await expect
    .poll(async () => {
      const n = await attempt();
      const text = (await error.textContent()) ?? '';
      return n > before && text.includes(`Try ${n} failed; trying again in ${Math.min(30, 2 ** (n - 1))} s.`);
    })
    .toBe(true);
  failing = false;
  await error.getByRole('button', {name: 'Try now'}).click();
  await expect(error).toHaveCount(0);
  await appsSettled(page);
  await expect(page.locator('.tile[data-state="ready"]')).toHaveCount(2);
});
