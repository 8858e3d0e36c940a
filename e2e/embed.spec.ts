import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {OrderPlaced, shopContracts} from '@switchboard/shop-contracts';
import {expect, test} from '@switchboard/testing';
import {followingTopic, pageErrors} from './support';

/** The production build, served by each test's own hub. */
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');

/**
 * shell/public/embed.html, served as /embed.html: nothing but one script tag of the standalone
 * bundle and the element's tag. It is served by a real server (the test's hub) rather than faked with page.route,
 * since Chromium's Local Network Access checks treat a fulfilled page as public and block its
 * requests to the loopback hub.
 */
const EMBED_PAGE = '/embed.html';

test.describe('an app embedded alone in a plain page', () => {
  test.describe('with its own in-process hub (@switchboard/testing)', () => {
    test.use({hubOptions: {contracts: shopContracts, staticDir: DIST}});

    test('renders and receives server events without the shell', async ({page, bus, hub}) => {
      const errors = pageErrors(page);
      await page.goto(`${hub.url}${EMBED_PAGE}`);
      // The element opened the page's one hub connection itself, and follows its topic.
      await bus.waitForTopic('orders');
      expect(hub.connectionCount).toBe(1);

      const envelope = await hub.publish('orders', OrderPlaced, {orderId: 'o-embedded', sku: 'tea-assam', quantity: 3});
      expect((await bus.waitForEvent(OrderPlaced, {where: (e) => e.data.orderId === 'o-embedded'})).id).toBe(envelope.id);
      await expect(page.locator(`shop-activity-feed li[data-id="${envelope.id}"] [data-field="data"]`)).toContainText('o-embedded');
      expect(errors).toEqual([]);
    });

    test('picks up a plain DOM CustomEvent dispatched by any element, and rejects an invalid one', async ({page, bus, hub}) => {
      const warnings: string[] = [];
      page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
      await page.goto(`${hub.url}${EMBED_PAGE}`);
      await page.evaluate(() => customElements.whenDefined('shop-activity-feed'));
      await page.evaluate(() => {
        const widget = document.createElement('legacy-widget');
        document.body.append(widget);
        widget.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-bad', sku: 'x', quantity: -1}, bubbles: true, composed: true}));
        widget.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-dom', sku: 'tea-oolong', quantity: 1}, bubbles: true, composed: true}));
      });
      // The invalid one broke its contract: expected here, so it does not fail the test.
      const broken = await bus.waitForBroken('order.placed');
      expect(broken.issues?.map((i) => i.path)).toEqual(['data.quantity']);
      const accepted = await bus.waitForEvent(OrderPlaced, {where: (e) => e.source === 'mfe:legacy-widget'});
      expect(accepted.data.orderId).toBe('o-dom');
      const rows = page.locator('shop-activity-feed li').filter({has: page.getByText('mfe:legacy-widget', {exact: true})});
      await expect(rows).toHaveCount(1);
      await expect(rows.locator('[data-field="data"]')).toContainText('o-dom');
      await expect(page.locator('shop-activity-feed li', {hasText: 'o-bad'})).toHaveCount(0);
      expect(warnings.join('\n')).toContain('invalid data for "order.placed" v1: data.quantity');
    });

    test('loses nothing when the hub drops its connection', async ({page, bus, hub}) => {
      await page.goto(`${hub.url}${EMBED_PAGE}`);
      await bus.waitForTopic('orders');
      await hub.publish('orders', OrderPlaced, {orderId: 'o-before', sku: 'tea-assam', quantity: 1});
      await bus.waitForEvent(OrderPlaced, {where: (e) => e.data.orderId === 'o-before'});

      expect(hub.dropConnections()).toBe(1);
      // Published while the page is cut off: it must arrive once the bridge resumes from its offset.
      await hub.publish('orders', OrderPlaced, {orderId: 'o-during', sku: 'tea-assam', quantity: 1});
      await bus.waitForEvent(OrderPlaced, {where: (e) => e.data.orderId === 'o-during', timeout: 20_000});
      await expect(page.locator('shop-activity-feed li', {hasText: 'o-during'})).toHaveCount(1);
      expect(bus.events.filter((e) => e.type === 'order.placed').length).toBe(2);
    });
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
