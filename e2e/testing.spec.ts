import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {OrderPlaced, shopContracts} from '@switchboard/shop-contracts';
import {expect, PageBusProbe, test} from '@switchboard/testing';

/** The production build, served by each test's own hub. */
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');

/** @switchboard/testing's own behaviour, on the built activity feed embedded alone. */
test.describe('@switchboard/testing', () => {
  test.use({hubOptions: {contracts: shopContracts, staticDir: DIST}});

  test('bus.publish puts an event into the page bus, and refuses one that breaks its contract', async ({page, bus, hub}) => {
    await page.goto(`${hub.url}/embed.html`);
    await page.evaluate(() => customElements.whenDefined('shop-activity-feed'));
    const sent = await bus.publish(OrderPlaced, {orderId: 'o-from-test', sku: 'tea-sencha', quantity: 2});
    expect(bus.events.map((e) => e.id)).toContain(sent.id);
    await expect(page.locator(`shop-activity-feed li[data-id="${sent.id}"]`)).toHaveCount(1);
    await expect(bus.publish(OrderPlaced, {orderId: 'o-bad', sku: 'tea-sencha', quantity: -1})).rejects.toThrow(/data\.quantity/);
    // The refused publish was seen as broken; this test expected it.
    expect((await bus.waitForBroken('order.placed')).source).toBe('test:playwright');
  });

  test('waitForEvent names what it saw when nothing matches in time', async ({page, bus, hub}) => {
    await page.goto(`${hub.url}/embed.html`);
    await bus.waitForTopic('orders');
    await hub.publish('orders', OrderPlaced, {orderId: 'o-1', sku: 'tea-sencha', quantity: 1});
    await expect(bus.waitForEvent(OrderPlaced, {where: (e) => e.data.orderId === 'o-2', timeout: 1000})).rejects.toThrow(/order\.placed \(delivered\)/);
  });

  test('a probe lists every event that broke its contract, with the reasons', async ({page, hub}) => {
    const probe = await PageBusProbe.attach(page);
    await page.goto(`${hub.url}/embed.html`);
    await page.evaluate(() => customElements.whenDefined('shop-activity-feed'));
    await page.evaluate(() => document.body.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-x'}, bubbles: true})));
    await expect.poll(() => probe.broken.length).toBe(1);
    expect(probe.describeBroken()).toContain('order.placed');
    expect(probe.describeBroken()).toContain('data.sku');
  });

  test.describe('when an event broke its contract and the test did not expect it', () => {
    // Expected to fail: the body passes; only the bus fixture's check after the test can fail it.
    test.fail();
    test('the bus fixture fails the test', async ({page, bus, hub}) => {
      await page.goto(`${hub.url}/embed.html`);
      await page.evaluate(() => customElements.whenDefined('shop-activity-feed'));
      await page.evaluate(() => document.body.dispatchEvent(new CustomEvent('order.placed', {detail: {orderId: 'o-x'}, bubbles: true})));
      await expect.poll(() => bus.broken.length).toBe(1);
    });
  });

  test('the hub fixture counts and drops connections', async ({page, bus, hub}) => {
    await page.goto(`${hub.url}/embed.html`);
    await bus.waitForTopic('orders');
    expect(hub.connectionCount).toBe(1);
    expect(hub.dropConnections('reconnect')).toBe(1);
    // The page reconnects by itself and follows its topic again.
    await expect.poll(() => hub.connectionCount, {timeout: 20_000}).toBe(1);
    await bus.waitForTopic('orders');
    await expect(hub.publish('orders', OrderPlaced, {orderId: 'o', sku: 's', quantity: 0})).rejects.toThrow(/refused/);
  });
});
