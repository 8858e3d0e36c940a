import {expect, test, type Response} from '@playwright/test';
import {pageErrors, shellReady} from './support';

/** The budget: the shell page with six apps, JavaScript as transferred (compressed). */
const BUDGET_BYTES = 100 * 1024;

test('the shell loads lit, zod, SignalR and the kit once for all six apps, compressed, within 100 KB of JavaScript', async ({page}) => {
  const errors = pageErrors(page);
  const scripts: Response[] = [];
  page.on('response', (r) => r.request().resourceType() === 'script' && scripts.push(r));
  await page.goto('/');
  await shellReady(page);
  await expect(page.locator('.tile[data-state="ready"]')).toHaveCount(6);

  const paths = scripts.map((r) => new URL(r.url()).pathname);
  // Each shared package exactly once; no app brought its own copy (no standalone bundle loaded).
  for (const shared of ['lit@', 'zod@', 'microsoft-signalr@', 'switchboard-bus@', 'switchboard-signalr@']) {
    expect(paths.filter((p) => p.startsWith(`/assets/shared/${shared}`)), shared).toHaveLength(1);
  }
  expect(paths.filter((p) => p.startsWith('/assets/apps/'))).toHaveLength(6);
  expect(paths.filter((p) => p.startsWith('/apps/'))).toEqual([]);

  let transferred = 0;
  for (const response of scripts) {
    const headers = await response.allHeaders();
    const size = (await response.request().sizes()).responseBodySize;
    // Files under 1 KB are not worth compressing and go as they are.
    if (size >= 1024) expect(['br', 'gzip'], response.url()).toContain(headers['content-encoding']);
    expect(headers['cache-control'], response.url()).toBe('public, max-age=31536000, immutable');
    transferred += size;
  }
  test.info().annotations.push({type: 'shell JavaScript transferred', description: `${(transferred / 1024).toFixed(1)} KB`});
  expect(transferred).toBeLessThanOrEqual(BUDGET_BYTES);
  expect(errors).toEqual([]);
});

test('the page and its composition are composed per request and never cached; stable app URLs are revalidated', async ({request}) => {
  for (const path of ['/', '/composition.json', '/manifest.json']) {
    expect((await request.get(path)).headers()['cache-control'], path).toBe('no-store');
  }
  const app = await request.get('/apps/order-form.js');
  expect(app.headers()['cache-control']).toBe('no-cache');
  expect(app.headers()['etag']).toBeTruthy();
});
