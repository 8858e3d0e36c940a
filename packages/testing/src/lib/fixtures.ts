import {test as base} from '@playwright/test';
import {PageBusProbe} from './page-bus-probe.js';
import {TestHub, type TestHubOptions} from './test-hub.js';

/** The fixtures and options {@link test} adds to Playwright's. */
export interface SwitchboardFixtures {
  /** The page bus of the test's `page`, recorded from the first navigation. */
  bus: PageBusProbe;
  /** An in-process hub on a free port for this test, closed after it. */
  hub: TestHub;
  /** Options of the `hub` fixture (contracts, staticDir, topics…); set with `test.use({hubOptions})`. */
  hubOptions: TestHubOptions;
  /** Fail a test whose page bus saw an event that broke its contract; default true. */
  failOnBrokenContracts: boolean;
}

/**
 * Playwright's `test` with Switchboard fixtures: `bus` (the page bus: events seen,
 * `waitForEvent`, `publish`) and `hub` (an in-process hub). A test whose page saw an event that
 * broke its contract fails, with the event and the reasons, unless it waited for that on purpose
 * with `bus.waitForBroken`.
 *
 * ```ts
 * import {expect, test} from '@switchboard/testing';
 * test.use({hubOptions: {contracts: [OrderPlaced], staticDir: 'dist'}});
 * test('shows a new order', async ({page, bus, hub}) => {
 *   await page.goto(`${hub.url}/index.html`);
 *   await bus.waitForTopic('orders');
 *   await hub.publish('orders', OrderPlaced, {orderId: 'o-1', sku: 'tea', quantity: 1});
 *   await bus.waitForEvent(OrderPlaced, {where: (e) => e.data.orderId === 'o-1'});
 *   await expect(page.getByText('o-1')).toBeVisible();
 * });
 * ```
 */
export const test = base.extend<SwitchboardFixtures>({
  hubOptions: [{}, {option: true}],
  failOnBrokenContracts: [true, {option: true}],
  bus: async ({page, failOnBrokenContracts}, use, testInfo) => {
    const probe = await PageBusProbe.attach(page);
    await use(probe);
    if (failOnBrokenContracts && probe.broken.length > 0) {
      // A fixture that throws after the test fails it, with this message in the report.
      throw new Error(`the page bus saw ${probe.broken.length} event(s) that broke their contract in "${testInfo.title}":\n${probe.describeBroken()}`);
    }
  },
  hub: async ({hubOptions}, use) => {
    const hub = await TestHub.start(hubOptions);
    try {
      await use(hub);
    } finally {
      await hub.close();
    }
  },
});

import {expect as playwrightExpect} from '@playwright/test';
/** Playwright's `expect`, re-exported so a test imports everything from `@switchboard/testing`. */
export const expect = playwrightExpect;
