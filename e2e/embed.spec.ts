import {expect, test} from '@playwright/test';
import {followingTopic, oneHubConnected, orderPlaced, pageErrors, producer} from './support';

/**
 * shell/public/embed.html, served as /embed.html: nothing but one script tag of the standalone
 * bundle and the element's tag. It is served by the real server rather than faked with page.route,
 * since Chromium's Local Network Access checks treat a fulfilled page as public and block its
 * requests to the loopback hub.
 */
const EMBED_PAGE = '/embed.html';

test.describe('an app embedded alone in a plain page', () => {
  test('renders and receives server events without the shell', async ({page, request}) => {
    const errors = pageErrors(page);
    await page.goto(EMBED_PAGE);
    const feed = page.locator('shop-activity-feed');
    // The element opened the page's one hub connection itself.
    await oneHubConnected(page);
    await followingTopic(page);

    const envelope = orderPlaced('o-embedded');
    expect((await request.post('/api/topics/orders/events', {data: envelope, headers: producer})).status()).toBe(202);
    await expect(feed.locator(`li[data-id="${envelope['id']}"] [data-field="data"]`)).toContainText('o-embedded');
    expect(errors).toEqual([]);
  });

  test('picks up a plain DOM CustomEvent dispatched by any element, and rejects an invalid one', async ({page}) => {
    const warnings: string[] = [];
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    await page.goto(EMBED_PAGE);
    // Other tests' orders may already be showing: wait for the element, not for an empty feed.
    await page.evaluate(() => customElements.whenDefined('shop-activity-feed'));

    await page.evaluate(() => {
      const button = document.createElement('legacy-widget');
      document.body.append(button);
      button.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-bad', sku: 'x', quantity: -1}, bubbles: true, composed: true}));
      button.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-dom', sku: 'tea-oolong', quantity: 1}, bubbles: true, composed: true}));
    });
    // Other tests publish to the same server topic meanwhile: look only at this widget's rows.
    const rows = page.locator('shop-activity-feed li').filter({has: page.getByText('mfe:legacy-widget', {exact: true})});
    await expect(rows).toHaveCount(1);
    await expect(rows.locator('[data-field="data"]')).toContainText('o-dom');
    await expect(page.locator('shop-activity-feed li', {hasText: 'o-bad'})).toHaveCount(0);
    expect(warnings.join('\n')).toContain('invalid data for "order.placed" v1: data.quantity');
  });

  test('two separately built bundles on one page share one bus', async ({page}) => {
    const errors = pageErrors(page);
    await page.goto('/embed-two.html');
    // The feed's bridge must follow the topic before the order, or the event is rightly not shown.
    await followingTopic(page);
    await page.locator('shop-order-form').getByRole('button', {name: 'Place order'}).click();
    // The form's command reaches the server through the bridge the feed's bundle opened: one bus.
    await expect(page.locator('shop-order-form output')).toHaveText(/Order o-[\w-]+ accepted/);
    const orderId = /Order (o-[\w-]+) accepted/.exec((await page.locator('shop-order-form output').textContent()) ?? '')![1]!;
    await expect(page.locator('shop-activity-feed li', {hasText: orderId})).toHaveCount(1);
    // Two bundles, each with its own copy of the bus code, and still one bus instance on the page.
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => new URL(s.src).pathname));
    expect(scripts).toEqual(['/apps/order-form.js', '/apps/activity-feed.js']);
    expect(await page.evaluate(() => Object.getOwnPropertySymbols(globalThis).filter((s) => s.description === 'switchboard.page-bus').length)).toBe(1);
    expect(errors).toEqual([]);
  });
});
