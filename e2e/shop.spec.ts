import {expect, test, type APIRequestContext, type Page} from '@playwright/test';
import {followingTopic, oneHubConnected, orderPlaced, pageErrors, producer, shellReady} from './support';

// These tests change the payment failure rate: run them one after another.
test.describe.configure({mode: 'serial'});

async function failPayments(request: APIRequestContext, rate: number): Promise<void> {
  expect((await request.put('/api/settings', {data: {paymentFailureRate: rate}, headers: producer})).status()).toBe(200);
}

/** Restocks a product through the inventory panel, so an order is not refused for stock others used up. */
async function restock(page: Page, name: string): Promise<void> {
  const level = page.locator(`shop-inventory tr:has-text("${name}") td.level`);
  await expect(level).toHaveText(/^\d+$/); // loaded: not "…" any more
  const before = Number(await level.textContent());
  await page.locator('shop-inventory').getByRole('button', {name: `Restock +10 ${name}`}).click();
  await expect.poll(async () => Number(await level.textContent())).toBeGreaterThan(before);
}

/** Places an order in the form and returns its id once the server accepted it. */
async function placeOrder(page: Page, sku: string, quantity: number): Promise<string> {
  const form = page.locator('shop-order-form');
  await form.getByLabel('Tea').selectOption(sku);
  await form.getByLabel('Quantity').fill(String(quantity));
  await form.getByRole('button', {name: 'Place order'}).click();
  await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/);
  return /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;
}

/** Waits until the inventory panel and the server's read model agree on a product's level; returns it. */
async function inventoryAgrees(page: Page, request: APIRequestContext, sku: string): Promise<number> {
  let level = -1;
  await expect
    .poll(async () => {
      const {products} = (await (await request.get('/api/inventory')).json()) as {products: {sku: string; level: number}[]};
      level = products.find((p) => p.sku === sku)!.level;
      return (await page.locator(`shop-inventory tr[data-sku="${sku}"] td.level`).textContent()) === String(level);
    })
    .toBe(true);
  return level;
}

test.afterAll(async ({request}) => failPayments(request, 0.2));

test('the happy path: form to shipped, seen in the tracker, inventory and notifications', async ({page, request}) => {
  const errors = pageErrors(page);
  await failPayments(request, 0);
  await page.goto('/');
  await shellReady(page);
  await restock(page, 'Sencha');
  const orderId = await placeOrder(page, 'tea-sencha', 2);
  const order = page.locator(`shop-order-tracker li[data-order="${orderId}"]`);
  await expect(order).toHaveAttribute('data-status', 'shipped');
  await expect(order.locator('li[data-done]')).toHaveText(['placed', 'reserved', 'paid', 'confirmed', 'shipped']);
  await expect(page.locator('shop-notifications li', {hasText: `Order ${orderId} has shipped.`})).toHaveCount(1);
  await inventoryAgrees(page, request, 'tea-sencha');
  const server = (await (await request.get(`/api/orders/${orderId}`)).json()) as {status: string};
  expect(server.status).toBe('shipped');
  expect(errors).toEqual([]);
});

test('the compensation path: a failed payment releases the stock and cancels the order', async ({page, request}) => {
  await failPayments(request, 1);
  await page.goto('/');
  await shellReady(page);
  await restock(page, 'Assam');
  const orderId = await placeOrder(page, 'tea-assam', 3);
  const order = page.locator(`shop-order-tracker li[data-order="${orderId}"]`);
  await expect(order).toHaveAttribute('data-status', 'cancelled');
  await expect(order).toContainText('Cancelled: Payment failed: Card declined (compensated: released 3 × tea-assam)');
  await expect(page.locator('shop-notifications li[data-level="error"]', {hasText: `Payment for order ${orderId} failed`})).toHaveCount(1);
  await inventoryAgrees(page, request, 'tea-assam');
});

test('a restock flows to the inventory', async ({page, request}) => {
  await page.goto('/');
  await shellReady(page, 'inventory');
  const before = await inventoryAgrees(page, request, 'tea-oolong');
  await page.locator('shop-inventory').getByRole('button', {name: 'Restock +10 Oolong'}).click();
  await expect.poll(() => inventoryAgrees(page, request, 'tea-oolong')).toBeGreaterThanOrEqual(before + 10);
});

test('the timeline shows an order’s whole causal chain, from the click to the last push', async ({page, request}) => {
  await failPayments(request, 0);
  await page.goto('/');
  await shellReady(page);
  await page.getByRole('button', {name: 'Event timeline'}).click();
  await restock(page, 'Oolong');
  const orderId = await placeOrder(page, 'tea-oolong', 1);
  await expect(page.locator(`shop-order-tracker li[data-order="${orderId}"]`)).toHaveAttribute('data-status', 'shipped');
  const log = page.locator('sb-event-log');
  await log.getByLabel('Filter events').fill(orderId);
  await log.locator('li[data-type="order.shipped"] button').click();
  const chain = log.locator('[part="chain"]');
  // One tree: the command from the click, the server's saga under it, nested by cause.
  const path = ['order.place', 'order.placed', 'inventory.reserved', 'payment.processed', 'order.confirmed', 'order.shipped'];
  const selector = path.map((type) => `li[data-type="${type}"]`).join(' ');
  await expect(chain.locator(selector)).toHaveCount(1);
  await expect(chain.locator('li[data-type="notification.raised"]')).not.toHaveCount(0);
});

test('a broken app stays in its tile while the others keep working', async ({page}) => {
  // The page's import map pins each module's integrity: drop it, so the stand-in module below runs
  // (with it, the stand-in would fail as tampered, which is not what this test is about).
  await page.route(/\/$/, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/"integrity":\s*\{[^}]*\}/, '"integrity":{}');
    await route.fulfill({response, body});
  });
  // Every try of both variants (retries carry ?sb-retry=n) fails.
  await page.route('**/apps/inventory*.js*', (route) => route.fulfill({status: 500, body: 'down'}));
  await page.route('**/apps/live-metrics*.js*', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: `customElements.define('shop-live-metrics', class extends HTMLElement { constructor() { super(); throw new Error('metrics exploded'); } });`,
    }),
  );
  await page.goto('/');
  await shellReady(page);
  await expect(page.locator('.tile[data-app="inventory"]')).toHaveAttribute('data-state', 'failed');
  await expect(page.locator('.tile[data-app="inventory"] [role="alert"]')).toContainText('Inventory is unavailable');
  await expect(page.locator('.tile[data-app="live-metrics"]')).toHaveAttribute('data-state', 'failed');
  await expect(page.locator('.tile[data-app="live-metrics"] [role="alert"]')).toContainText('metrics exploded');
  await expect(page.locator('.tile[data-state="ready"]')).toHaveCount(4);
  await placeOrder(page, 'tea-sencha', 1);
});

for (const app of ['order-form', 'order-tracker', 'inventory', 'notifications', 'live-metrics', 'activity-feed']) {
  test(`${app} works alone on a plain page`, async ({page, request}) => {
    const errors = pageErrors(page);
    await page.goto(`/alone/${app}.html`);
    await oneHubConnected(page);
    // The element rendered into its shadow root.
    await expect.poll(() => page.evaluate(() => document.querySelector('main > h1 + *')?.shadowRoot?.childElementCount ?? 0)).toBeGreaterThan(0);
    if (app === 'order-form') {
      await placeOrder(page, 'tea-sencha', 1);
    } else if (app === 'order-tracker' || app === 'activity-feed') {
      await followingTopic(page);
      const envelope = orderPlaced(`o-alone-${app}`);
      await request.post('/api/topics/orders/events', {data: envelope, headers: producer});
      const row = app === 'order-tracker' ? `shop-order-tracker li[data-order="o-alone-${app}"]` : `shop-activity-feed li[data-id="${String(envelope['id'])}"]`;
      await expect(page.locator(row)).toHaveCount(1);
    } else if (app === 'inventory') {
      await expect(page.locator('shop-inventory tr[data-sku="tea-sencha"] td.level')).toHaveText(/^\d+$/);
    }
    expect(errors).toEqual([]);
  });
}
