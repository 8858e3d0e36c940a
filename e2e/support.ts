import {expect, type Page} from '@playwright/test';

/**
 * Headers of a granted producer (scope `publish:orders admin drills`, minted by playwright.config.ts): the
 * demo runs with tokens on and anonymous pages allowed, and only a granted producer may publish
 * `order.placed` or change the settings.
 */
export const producer: Record<string, string> = {authorization: `Bearer ${process.env['SB_E2E_PRODUCER_TOKEN'] ?? ''}`};

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

/** What one of the page's hub bridges reports. */
export interface HubState {
  readonly status: string;
  readonly following: readonly string[];
  readonly connectionId: string | null;
}

/** The page's hub bridges (one per hub URL), read from where every bundle finds them. */
export function pageHubs(page: Page): Promise<HubState[]> {
  return page.evaluate(() => {
    type Bridge = {status: string; following: string[]; connection: {connectionId: string | null}};
    const hubs = (globalThis as Record<symbol, Map<string, Bridge> | undefined>)[Symbol.for('switchboard.page-hubs')];
    return hubs === undefined ? [] : [...hubs.values()].map((h) => ({status: h.status, following: h.following, connectionId: h.connection.connectionId}));
  });
}

/** Waits until the page has exactly one hub connection and it is connected. */
export async function oneHubConnected(page: Page): Promise<void> {
  await expect.poll(async () => (await pageHubs(page)).map((h) => h.status)).toEqual(['connected']);
}

/**
 * Waits until the page follows `topic`. Topics follow interest, so an event published before an app
 * wants its topic is rightly never shown: tests publish only after this.
 */
export async function followingTopic(page: Page, topic = 'orders'): Promise<void> {
  await expect.poll(async () => (await pageHubs(page)).some((h) => h.following.includes(topic))).toBe(true);
}

/** The id of the page's (first) hub connection. */
export async function connectionId(page: Page): Promise<string> {
  const [hub] = await pageHubs(page);
  if (hub?.connectionId == null) throw new Error('the page has no hub connection');
  return hub.connectionId;
}

/** Waits until the shell has rendered its route and no app tile is still loading (each is ready or failed). */
export async function appsSettled(page: Page): Promise<void> {
  await expect(page.locator('#shell')).toHaveAttribute('data-shell', 'ready');
  await expect(page.locator('.tile[data-state="loading"]')).toHaveCount(0);
}

/** Waits until the shell is ready for a test: connected, every app tile mounted (or failed), `topic` followed. */
export async function shellReady(page: Page, topic = 'orders'): Promise<void> {
  await hubConnected(page);
  await appsSettled(page);
  await followingTopic(page, topic);
}

/** Opens the shell at `url` and waits until it is connected and its apps have loaded their read models. */
export async function openShellAt(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
  await expect(page.locator('shop-inventory td.level').first()).toHaveText(/^\d+$/);
  await expect(page.locator('shop-order-tracker')).not.toContainText('Loading orders');
}

/** Places an order in the shell's form and returns its id once the server accepted it. */
export async function placeOrder(page: Page, sku = 'tea-assam', quantity = 1): Promise<string> {
  const form = page.locator('shop-order-form');
  await form.getByLabel('Tea').selectOption(sku);
  await form.getByLabel('Quantity').fill(String(quantity));
  await form.getByRole('button', {name: /Place order/}).click();
  await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/);
  return /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;
}

/** The order tracker's entry for `orderId`. */
export const tracked = (page: Page, orderId: string) => page.locator(`shop-order-tracker li[data-order="${orderId}"]`);

