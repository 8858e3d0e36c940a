/**
 * Pages that are right after a reload, in a new tab, across tabs, after a server restart and while
 * the server is down. One demo server of this spec's own (restarted by a test), so settings changed
 * here never reach the other specs' server.
 */
import {expect, test, type Page} from '@playwright/test';
import {OwnServer} from './own-server';
import {openShellAt, pageErrors, placeOrder, tracked} from './support';

test.describe.configure({mode: 'serial'});

let server: OwnServer;
test.beforeAll(async () => {
  server = await OwnServer.start({PAYMENT_FAILURE_RATE: '0'});
});
test.afterAll(async () => {
  await server.stop();
});

const openShell = (page: Page, query = '') => openShellAt(page, `${server.url}/${query}`);

async function serverOrders(): Promise<Array<{orderId: string; status: string}>> {
  return ((await (await fetch(`${server.url}/api/orders`)).json()) as {orders: Array<{orderId: string; status: string}>}).orders;
}

async function serverLevel(sku: string): Promise<number> {
  const {products} = (await (await fetch(`${server.url}/api/inventory`)).json()) as {products: {sku: string; level: number}[]};
  return products.find((p) => p.sku === sku)!.level;
}

test('an order placed, then the page reloaded: the order is listed with its current state', async ({page}) => {
  const errors = pageErrors(page);
  await openShell(page);
  const orderId = await placeOrder(page);
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  await page.reload();
  await openShell(page);
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  await expect(tracked(page, orderId).locator('li[data-done]')).toHaveText(['placed', 'reserved', 'paid', 'confirmed', 'shipped']);
  expect(errors).toEqual([]);
});

test('an order placed in one tab is listed in a tab opened afterwards, and inventory agrees', async ({context}) => {
  const a = await context.newPage();
  await openShell(a);
  const orderId = await placeOrder(a, 'tea-oolong', 2);
  await expect(tracked(a, orderId)).toHaveAttribute('data-status', 'shipped');
  const b = await context.newPage();
  await openShell(b);
  await expect(tracked(b, orderId)).toHaveAttribute('data-status', 'shipped');
  await expect(b.locator('shop-inventory tr[data-sku="tea-oolong"] td.level')).toHaveText(String(await serverLevel('tea-oolong')));
});

test('a settings change in one tab shows in the other tab and in the server', async ({context}) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await openShell(a);
  await openShell(b);
  await expect(b.locator('#failure-rate')).toHaveValue('0');
  await a.locator('#failure-rate').selectOption('1');
  await expect(b.locator('#failure-rate')).toHaveValue('1');
  await expect(a.locator('#failure-rate')).toHaveValue('1');
  expect(await (await fetch(`${server.url}/api/settings`)).json()).toMatchObject({paymentFailureRate: 1});
  await b.locator('#failure-rate').selectOption('0');
  await expect(a.locator('#failure-rate')).toHaveValue('0');
});

test('after a server restart the open page shows the server state once it reconnects', async ({page}) => {
  await openShell(page);
  // Make the page's state differ from a fresh server's: an order, a restock, a setting.
  const orderId = await placeOrder(page);
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  await page.locator('shop-inventory').getByRole('button', {name: 'Restock +10 Sencha'}).click();
  await expect(page.locator('shop-inventory tr[data-sku="tea-sencha"] td.level')).toHaveText(String(await serverLevel('tea-sencha')));
  await page.locator('#failure-rate').selectOption('1');
  await expect(page.locator('#failure-rate')).toHaveValue('1');

  await server.stop();
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'reconnecting');
  await expect(page.locator('#hub-status')).toHaveText(/reconnecting \(attempt \d+, next try in \d+ s\)/);
  await server.start();
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected', {timeout: 20_000});
  // A fresh server: no orders, 20 of each tea, payments fail at PAYMENT_FAILURE_RATE (0 here).
  expect(await serverOrders()).toEqual([]);
  await expect(tracked(page, orderId)).toHaveCount(0);
  await expect(page.locator('shop-order-tracker')).toContainText('No orders yet.');
  await expect(page.locator('shop-inventory tr[data-sku="tea-sencha"] td.level')).toHaveText('20');
  await expect(page.locator('#failure-rate')).toHaveValue('0');
  // And it keeps following: an order on the new server shows.
  const next = await placeOrder(page);
  await expect(tracked(page, next)).toHaveAttribute('data-status', 'shipped');
});

test('an order placed while the server is down is pending, then sent once when it is back', async ({page}) => {
  await openShell(page, '?commandWaitMs=60000');
  await server.stop();
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'reconnecting');
  const form = page.locator('shop-order-form');
  await expect(form.getByRole('button', {name: 'Place order (offline)'})).toBeVisible();
  await expect(form.locator('[data-offline]')).toHaveText(/Offline/);
  await form.getByLabel('Tea').selectOption('tea-assam');
  await form.getByRole('button', {name: /Place order/}).click();
  await expect(form.locator('output')).toHaveText(/Pending: waiting for the connection/);
  await server.start();
  await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/, {timeout: 30_000});
  const orderId = /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  // Handled once: the restarted server holds exactly this one order.
  expect((await serverOrders()).map((o) => o.orderId)).toEqual([orderId]);
});

test('an order placed while the server stays down is refused clearly after the wait, and never sent later', async ({page}) => {
  const errors = pageErrors(page);
  await openShell(page, '?commandWaitMs=1000');
  await server.stop();
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'reconnecting');
  const form = page.locator('shop-order-form');
  await form.getByRole('button', {name: /Place order/}).click();
  await expect(form.locator('output')).toHaveText(/Pending/);
  await expect(form.locator('output')).toHaveText('Not placed: The order was not sent: the page is offline. Try again when it is back.');
  await server.start();
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected', {timeout: 20_000});
  await expect(page.locator('shop-order-tracker')).toContainText('No orders yet.');
  expect(await serverOrders()).toEqual([]);
  // The browser's own network errors while the server is down are not the page's.
  expect(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(e))).toEqual([]);
});

test('the timeline by keyboard: filtering by an order id keeps its root command, and tree nodes open to show their data', async ({page}) => {
  await openShell(page);
  const orderId = await placeOrder(page, 'tea-sencha', 1);
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');
  const toggle = page.getByRole('button', {name: 'Event timeline'});
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const log = page.locator('sb-event-log');
  await log.getByLabel('Filter events').fill(orderId);
  // The command's data names no order, yet it is the root of the flow and stays listed.
  await expect(log.locator('li[part="record"][data-type="order.place"]')).toHaveCount(1);
  await expect(log.locator('li[part="record"][data-type="order.shipped"]')).toHaveCount(1);
  await log.locator('li[part="record"][data-type="order.shipped"] button').focus();
  await page.keyboard.press('Enter');
  await expect(log.locator('li[part="record"][data-type="order.shipped"] button')).toHaveAttribute('aria-current', 'true');
  const placed = log.locator('[part="chain"] li[data-type="order.placed"] > details');
  await placed.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(placed).toHaveAttribute('open', '');
  await expect(placed.locator('pre')).toContainText(orderId);
  // The number column is named for assistive technology.
  await expect(log.locator('li[part="record"][data-type="order.shipped"] button')).toHaveAccessibleName(/handlers?$/);
});
