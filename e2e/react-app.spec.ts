import {expect, test, type Page} from '@playwright/test';
import {appsSettled, followingTopic, hubConnected, orderPlaced, pageErrors, producer} from './support';

// Each test loads the whole shell (and React) in a fresh page: give them room on a busy machine.
test.describe.configure({timeout: 60_000});

type Stats = {frames: number; bus: Record<string, number>; hub: Record<string, number>};

function stats(page: Page): Promise<Stats> {
  return page.evaluate(() => (globalThis as unknown as Record<symbol, {stats(): Stats}>)[Symbol.for('switchboard.shell')]!.stats());
}

test('the React app receives a server push and sends a command', async ({page, request}) => {
  const errors = pageErrors(page);
  await page.goto('/shipments');
  await hubConnected(page);
  await appsSettled(page);
  const app = page.locator('shop-order-lookup');
  await expect(app.locator('[data-connection]')).toHaveText('hub: connected');
  await followingTopic(page, 'orders');
  const orderId = `o-react-${Date.now()}`;
  const posted = await request.post('/api/topics/orders/events', {data: orderPlaced(orderId), headers: producer});
  expect(posted.status()).toBe(202);
  // Placed, and (the demo ships fast) maybe shipped already: either way pushed to the React tree.
  await expect(app.locator(`li[data-order="${orderId}"]`)).toContainText(orderId);

  await app.getByLabel('Product').selectOption('tea-oolong');
  await app.getByRole('button', {name: 'Restock 5'}).click();
  await expect(app.getByRole('status')).toHaveText('Restocked 5 × tea-oolong.');
  // The command went out as the app: mfe:<its tag>.
  const source = await page.evaluate(() => {
    type Bus = {inspect(): {type: string; source: string}[]};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    return bus.inspect().filter((r) => r.type === 'inventory.restock').map((r) => r.source);
  });
  expect(source).toEqual(['mfe:shop-order-lookup']);
  expect(errors).toEqual([]);
});

test('events from inside the React tree carry the app as source, and the composition\'s grants apply', async ({page}) => {
  await page.goto('/shipments');
  await appsSettled(page);
  const outcome = await page.evaluate(() => {
    const host = document.querySelector('shop-order-lookup')!;
    const button = host.shadowRoot!.querySelector('button')!;
    // A plain DOM event from a React-rendered button, of a type the app's entry does not grant.
    button.dispatchEvent(
      new CustomEvent('order.placed', {detail: {orderId: 'o-forged', sku: 'tea-assam', quantity: 1}, bubbles: true, composed: true}),
    );
    type Bus = {inspect(): {type: string; source: string; outcome: string}[]};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    return bus.inspect().filter((r) => r.type === 'order.placed' && r.source.startsWith('mfe:')).map((r) => ({source: r.source, outcome: r.outcome}));
  });
  expect(outcome).toEqual([{source: 'mfe:shop-order-lookup', outcome: 'forbidden'}]);
});

test('unmounting the React app ends its subscriptions, pending commands and followed topics', async ({page}) => {
  await page.goto('/ops');
  await hubConnected(page);
  await appsSettled(page);
  const before = await stats(page);
  await page.getByRole('link', {name: 'Shipments'}).click();
  await appsSettled(page);
  await expect(page.locator('shop-order-lookup [data-connection]')).toHaveText('hub: connected');
  const mounted = await stats(page);
  expect(mounted.bus['subscriptions']).toBeGreaterThan(before.bus['subscriptions']!);
  // A command in flight when the route changes is abandoned with the component.
  const pending = await page.evaluate(() => {
    type Bus = {stats(): {pendingRequests: number}};
    type Shell = {navigate(path: string): void};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    document.querySelector('shop-order-lookup')!.shadowRoot!.querySelector('button')!.click();
    const during = bus.stats().pendingRequests;
    (globalThis as unknown as Record<symbol, Shell>)[Symbol.for('switchboard.shell')]!.navigate('/ops');
    return {during, after: bus.stats().pendingRequests, element: document.querySelector('shop-order-lookup') !== null};
  });
  expect(pending).toEqual({during: 1, after: 0, element: false});
  await appsSettled(page);
  await expect.poll(async () => (await stats(page)).hub).toEqual(before.hub);
  expect((await stats(page)).bus).toEqual(before.bus);
});

test('React is loaded once, from the import map, and the app\'s styles stay in its shadow root', async ({page}) => {
  await page.goto('/shipments');
  await appsSettled(page);
  await expect(page.locator('.tile[data-app="order-lookup"]')).toHaveAttribute('data-variant', 'module');
  const urls = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  expect(urls.filter((u) => u.startsWith('/assets/shared/react@'))).toHaveLength(1);
  expect(urls.filter((u) => u.startsWith('/assets/shared/react-dom-client@'))).toHaveLength(1);
  expect(urls.filter((u) => u.startsWith('/apps/'))).toEqual([]);
  const map = await page.evaluate(() => JSON.parse(document.querySelector('script[type="importmap"]')!.textContent!) as {imports: Record<string, string>});
  expect(Object.keys(map.imports)).toEqual(expect.arrayContaining(['react', 'react-dom/client', 'react/jsx-runtime']));
  // The app's <style> is in its shadow root, not in the page.
  const styles = await page.evaluate(() => ({
    inShadow: document.querySelector('shop-order-lookup')!.shadowRoot!.querySelectorAll('style').length,
    // The app styles its buttons with its accent border; a page button gets none of it.
    pageButton: getComputedStyle(document.getElementById('devtools-toggle')!).borderTopColor,
    appButton: getComputedStyle(document.querySelector('shop-order-lookup')!.shadowRoot!.querySelector('button')!).borderTopColor,
  }));
  expect(styles.inShadow).toBe(1);
  expect(styles.appButton).not.toBe(styles.pageButton);
});

test('a deploy of an app on the page offers a reload; a remountable one is swapped in place', async ({page}) => {
  await page.goto('/shipments');
  await appsSettled(page);
  await page.evaluate(() => {
    type Bus = {registry: {get(type: string): unknown}; publish(contract: unknown, data: unknown, options: unknown): void};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    bus.publish(bus.registry.get('app.deployed'), {name: 'notifications', version: '1.1.0', previous: '0.0.0', channel: 'stable', revision: 'r2', remountable: false}, {source: 'e2e'});
  });
  const notice = page.locator('.sb-update[data-app="notifications"]');
  await expect(notice).toContainText('A new version of Notifications is available.');
  await expect(notice.getByRole('button', {name: 'Reload'})).toBeVisible();

  // A remountable app: the shell reads the composition again and mounts the (new) module in place.
  const first = await page.locator('shop-order-lookup').elementHandle();
  await page.evaluate(() => {
    type Bus = {registry: {get(type: string): unknown}; publish(contract: unknown, data: unknown, options: unknown): void};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    bus.publish(bus.registry.get('app.deployed'), {name: 'order-lookup', version: '1.1.0', previous: '0.0.0', channel: 'stable', revision: 'r3', remountable: true}, {source: 'e2e'});
  });
  await expect.poll(() => first!.evaluate((el) => el.isConnected)).toBe(false);
  await expect(page.locator('.tile[data-app="order-lookup"]')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('shop-order-lookup [data-connection]')).toHaveText('hub: connected');
  await expect(page.locator('.sb-update[data-app="order-lookup"]')).toHaveCount(0);
});
