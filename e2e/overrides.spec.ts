/**
 * Local overrides on a composed page: the devtools panel pointing an app at a local build and back,
 * a link with `?sb-override=`, an app served by a Vite dev server (the page's shared modules, an
 * edit reloading the page, the server going away), URLs that are refused, and an environment that
 * refuses overrides altogether. Each group runs its own server on a private copy of the build.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import {expect, test, type Page} from '@playwright/test';
import type {OwnServer} from './own-server';
import {appCopy, compositionOf, moduleServer, openShell, privateBuild, seedRecord, slow, startDemo, startDevApp} from './registry-support';
import {pageErrors} from './support';

/** Opens the event timeline and its "Local overrides" section. */
async function openOverridesPanel(page: Page): Promise<void> {
  if ((await page.locator('#devtools-toggle').getAttribute('aria-expanded')) !== 'true') await page.locator('#devtools-toggle').click();
  const details = page.locator('sb-event-log details.overrides');
  await expect(details).toHaveCount(1);
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}

/** Clicks the panel's "Reload to apply" and waits for the new page. */
async function reloadFromPanel(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.locator('sb-event-log details.overrides button', {hasText: 'Reload to apply'}).click()]);
}

const row = (page: Page, app: string) => page.locator(`sb-event-log details.overrides li[data-app="${app}"]`);
const savedOverrides = (page: Page) => page.evaluate(() => localStorage.getItem('switchboard-overrides'));

// Servers and a dev server per group, on a 2-core machine: one group at a time.
test.describe.configure({mode: 'default', timeout: 120_000});

test.describe('where overrides are allowed', () => {
  test.describe.configure({mode: 'serial'});
  let build: ReturnType<typeof privateBuild>;
  let server: OwnServer;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    build = privateBuild();
    server = await startDemo({DATA_DIR: build.data, STATIC_DIR: build.dist});
  });
  test.afterAll(async () => {
    await server?.stop();
    build?.remove();
  });

  test('the devtools panel points an app at a local build; after a reload it runs there; cleared, the deployed version is back', async ({page}) => {
    const errors = pageErrors(page);
    const deployed = seedRecord(build.dist, 'order-tracker');
    // A local build of the order tracker: the built module, one text changed.
    const built = readFileSync(join(build.dist, deployed.module), 'utf8');
    expect(built).toContain('No orders yet.');
    const local = await moduleServer(built.replaceAll('No orders yet.', 'No orders yet (local build).'));
    try {
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      await openShell(page, server.url);
      await openOverridesPanel(page);
      const tracker = row(page, 'order-tracker');
      await expect(tracker).toHaveAttribute('data-state', 'none');

      // A URL the page must never load is refused in words, and nothing is saved.
      await tracker.locator('input').fill('javascript:alert(1)');
      await tracker.locator('input').press('Tab');
      await expect(tracker).toHaveAttribute('data-state', 'refused');
      await expect(tracker.locator('.override-state')).toHaveText('javascript:alert(1) is refused: only http(s) URLs may be loaded, not javascript:');
      expect(await savedOverrides(page)).toBeNull();

      await tracker.locator('input').fill(`${local.url}/order-tracker.js`);
      await tracker.locator('input').press('Tab');
      await expect(tracker).toHaveAttribute('data-state', 'saved');
      await expect(tracker.locator('.override-state')).toHaveText('saved: reload to apply');
      await reloadFromPanel(page);
      await slow(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
      await slow(page.locator('.tile[data-app="order-tracker"]')).toHaveAttribute('data-state', 'ready');
      await expect(page.locator('#switchboard-overrides-badge')).toHaveText('overrides active: order-tracker');
      await expect(page.locator('shop-order-tracker')).toHaveText('No orders yet (local build).');
      expect(local.asked).toContain('/order-tracker.js');
      expect((await compositionOf(page)).overrides).toEqual(['order-tracker']);
      // The rest of the page still runs its deployed versions.
      await slow(page.locator('.tile[data-state="ready"]')).toHaveCount(await page.locator('.tile').count());

      await openOverridesPanel(page);
      await expect(tracker).toHaveAttribute('data-state', 'active');
      await tracker.locator('button', {hasText: 'Clear'}).click();
      await expect(tracker).toHaveAttribute('data-state', 'cleared');
      expect(await savedOverrides(page)).toBeNull();
      requested.length = 0;
      await reloadFromPanel(page);
      await slow(page.locator('.tile[data-app="order-tracker"]')).toHaveAttribute('data-state', 'ready');
      await expect(page.locator('shop-order-tracker')).toHaveText('No orders yet.');
      await expect(page.locator('#switchboard-overrides-badge')).toHaveCount(0);
      expect(requested.some((u) => u.endsWith(deployed.module))).toBe(true);
      expect(requested.some((u) => u.startsWith(local.url))).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await local.close();
    }
  });

  test('a link override shows a badge, is kept for the next load, and is cleared from the badge', async ({page}) => {
    const other = await moduleServer("customElements.define('shop-activity-feed', class extends HTMLElement { connectedCallback() { this.textContent = 'activity from the override'; } });\n");
    try {
      const url = `${other.url}/feed.js`;
      await openShell(page, `${server.url}/?sb-override=activity-feed=${encodeURIComponent(url)}`);
      await expect(page.locator('shop-activity-feed')).toHaveText('activity from the override');
      await expect(page.locator('#switchboard-overrides-badge')).toContainText('activity-feed');
      // Kept in localStorage for the next load, until cleared from the badge.
      await openShell(page, server.url);
      await expect(page.locator('shop-activity-feed')).toHaveText('activity from the override');
      await page.locator('#switchboard-overrides-badge').click();
      await page.waitForURL(`${server.url}/`);
      await slow(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
      await expect(page.locator('#switchboard-overrides-badge')).toHaveCount(0);
      await expect(page.locator('shop-activity-feed')).not.toHaveText('activity from the override');
    } finally {
      await other.close();
    }
  });

  test('refused URLs load nothing and are shown refused with the reason: javascript:, data:, plain http elsewhere, a link to another server, no such app', async ({page}) => {
    page.on('dialog', (d) => {
      throw new Error(`a dialog opened: ${d.message()}`);
    });
    await page.goto(`${server.url}/composition.json`);
    await page.evaluate(() =>
      localStorage.setItem(
        'switchboard-overrides',
        JSON.stringify({
          'order-tracker': 'javascript:alert(1)',
          inventory: 'data:text/javascript,alert(2)',
          notifications: 'http://example.invalid/notifications.js',
          nope: 'http://127.0.0.1:9/nope.js',
        }),
      ),
    );
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await openShell(page, `${server.url}/?sb-override=activity-feed=${encodeURIComponent('https://cdn.example/feed.js')}`);

    const composition = await compositionOf(page);
    expect(composition.overrides).toEqual([]);
    const reasons = Object.fromEntries((composition.refusedOverrides ?? []).map((r) => [r.name, r.reason]));
    expect(reasons).toEqual({
      'order-tracker': 'only http(s) URLs may be loaded, not javascript:',
      inventory: 'only http(s) URLs may be loaded, not data:',
      notifications: 'plain http is refused except on this machine (localhost): use https',
      nope: 'this page has no app or shared package named nope',
      'activity-feed': `a link may only point at this machine (localhost) or ${server.url}; save an https URL elsewhere from the devtools panel`,
    });
    await expect(page.locator('#switchboard-overrides-badge')).toHaveText('refused: order-tracker, inventory, notifications, nope, activity-feed');
    // Nothing but the page's own server was asked for anything.
    expect(requested.filter((u) => !u.startsWith(`${server.url}/`) && u !== 'data:,')).toEqual([]);
    // The refused link is not saved for the next load.
    expect(JSON.parse((await savedOverrides(page))!)).not.toHaveProperty('activity-feed');

    await openOverridesPanel(page);
    for (const [name, reason] of Object.entries(reasons)) {
      await expect(row(page, name)).toHaveAttribute('data-state', 'refused');
      await expect(row(page, name).locator('.override-state')).toHaveText(`refused: ${reason}`);
    }
    // Refusals are read out (alerts) and the open panel passes axe.
    const {violations} = await new AxeBuilder({page}).include('sb-event-log').analyze();
    expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await page.locator('sb-event-log details.overrides button', {hasText: 'Clear all'}).click();
    expect(await savedOverrides(page)).toBeNull();
  });

  test('an app served by a Vite dev server: it runs on the page\'s shared modules, an edit reloads the page with the change, and a dev server that is down leaves the rest working', async ({page}) => {
    const copy = appCopy('order-tracker');
    const source = join(copy.dir, 'src/order-tracker.ts');
    let dev: Awaited<ReturnType<typeof startDevApp>> | undefined;
    try {
      dev = await startDevApp('order-tracker', copy.dir);
      const {url} = dev;
      const devOrigin = new URL(url).origin;

      const errors = pageErrors(page);
      const consoleLines: string[] = [];
      page.on('console', (m) => consoleLines.push(m.text()));
      const fromDev: string[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(devOrigin)) fromDev.push(new URL(r.url()).pathname);
      });
      let loads = 0;
      page.on('load', () => loads++);
      await openShell(page, `${server.url}/?sb-override=order-tracker=${encodeURIComponent(url)}`);
      await expect(page.locator('#switchboard-overrides-badge')).toHaveText('overrides active: order-tracker');
      await expect(page.locator('shop-order-tracker')).toHaveText('No orders yet.');

      // One Lit and one kit on the page: the app's shared imports went through the page's import map.
      expect(fromDev).toContain('/src/index.ts');
      expect(fromDev).toContain('/@switchboard-shared/lit.js');
      // (Vite's client is its own: /@vite/client and its env module.)
      const copied = fromDev.filter((p) => (p.includes('/node_modules/') && !p.includes('/node_modules/vite/dist/client/')) || /\/packages\/(contracts|bus|lit|signalr|devtools)\//.test(p));
      expect(copied).toEqual([]);
      const copies = await page.evaluate(() => {
        const g = globalThis as unknown as Record<string, unknown[] | undefined>;
        return {litElement: g['litElementVersions']?.length, reactiveElement: g['reactiveElementVersions']?.length, litHtml: g['litHtmlVersions']?.length};
      });
      expect(copies).toEqual({litElement: 1, reactiveElement: 1, litHtml: 1});
      // No integrity for the dev URL, none left for the deployed module it replaces.
      const integrity = await page.evaluate(() => (JSON.parse(document.querySelector('script[type="importmap"]')!.textContent!) as {integrity: Record<string, string>}).integrity);
      expect(Object.keys(integrity).filter((u) => u.startsWith(devOrigin) || u === seedRecord(build.dist, 'order-tracker').module)).toEqual([]);

      // An edit of the app's source: Vite's client (loaded by the app from the dev server) reloads the page.
      await expect.poll(() => consoleLines.some((l) => l.includes('[vite] connected'))).toBe(true);
      const loadsBefore = loads;
      await page.evaluate(() => ((window as unknown as {beforeEdit: boolean}).beforeEdit = true));
      writeFileSync(source, readFileSync(source, 'utf8').replace("'No orders yet.'", "'No orders yet (edited in the dev server).'"));
      await slow(page.locator('shop-order-tracker')).toHaveText('No orders yet (edited in the dev server).');
      // A full reload, not a module swap: a custom element's tag cannot be defined twice in a document.
      expect(await page.evaluate(() => (window as unknown as {beforeEdit?: boolean}).beforeEdit)).toBeUndefined();
      expect(loads).toBe(loadsBefore + 1);
      await slow(page.locator('.tile[data-state="ready"]')).toHaveCount(await page.locator('.tile').count());
      expect(errors).toEqual([]);

      // The dev server goes away: the tracker's frame says so, the rest of the page works.
      await dev.stop();
      await page.reload();
      await slow(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');
      const frame = page.locator('.tile[data-app="order-tracker"]');
      await slow(frame).toHaveAttribute('data-state', 'failed');
      await expect(frame.locator('[role="alert"]')).toContainText('is unavailable');
      await expect(frame.locator('[role="alert"]')).toContainText(devOrigin);
      await expect(page.locator('.tile[data-state="ready"]')).toHaveCount((await page.locator('.tile').count()) - 1);
      await expect(page.locator('shop-inventory td.level').first()).toHaveText(/^\d+$/);
    } finally {
      await dev?.stop();
      copy.remove();
    }
  });
});

test.describe('where overrides are not allowed', () => {
  let build: ReturnType<typeof privateBuild>;
  let server: OwnServer;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    build = privateBuild();
    server = await startDemo({DATA_DIR: build.data, STATIC_DIR: build.dist, SWITCHBOARD_ENV: 'production'});
  });
  test.afterAll(async () => {
    await server?.stop();
    build?.remove();
  });

  test('production refuses them: one native import map, no bootstrap, no badge, the deployed app; the panel says they are refused', async ({page}) => {
    const local = await moduleServer("customElements.define('shop-order-tracker', class extends HTMLElement { connectedCallback() { this.textContent = 'local'; } });\n");
    try {
      await page.goto(`${server.url}/composition.json`);
      await page.evaluate((url) => localStorage.setItem('switchboard-overrides', JSON.stringify({'order-tracker': url})), `${local.url}/tracker.js`);
      const loaded: string[] = [];
      page.on('request', (r) => loaded.push(r.url()));
      await openShell(page, `${server.url}/?sb-override=activity-feed=${encodeURIComponent(`${local.url}/feed.js`)}`);
      const composition = await compositionOf(page);
      expect(composition.overridesAllowed).toBe(false);
      expect(await page.locator('script[type="importmap"]').count()).toBe(1);
      expect(await page.locator('#switchboard-importmap').count()).toBe(0);
      await expect(page.locator('#switchboard-overrides-badge')).toHaveCount(0);
      expect(loaded.some((u) => u.startsWith(local.url))).toBe(false);
      expect(local.asked).toEqual([]);
      expect(loaded.some((u) => u.includes(composition.apps.find((a) => a.name === 'activity-feed')!.module))).toBe(true);
      await expect(page.locator('shop-order-tracker')).not.toHaveText('local');

      await openOverridesPanel(page);
      await expect(page.locator('sb-event-log details.overrides')).toHaveAttribute('data-allowed', 'false');
      await expect(page.locator('sb-event-log details.overrides [role="status"]')).toHaveText(
        'Refused: the production environment does not allow local overrides (they load code from elsewhere into this page). Every app runs its deployed version.',
      );
      await expect(row(page, 'order-tracker')).toHaveText(`order-tracker → ${local.url}/tracker.js: refused`);
      await expect(row(page, 'activity-feed')).toHaveText(`activity-feed → ${local.url}/feed.js: refused`);
    } finally {
      await local.close();
    }
  });
});
