import {expect, test, type Page} from '@playwright/test';
import {connectionId, hubConnected, orderPlaced, pageErrors, producer, shellReady} from './support';

/** Records every connection status the page's bus announces, from now on. */
async function recordStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as {statuses: string[]};
    w.statuses = [];
    const bus = (globalThis as Record<symbol, {subscribe: (t: string, h: (e: {data: {status: string}}) => void, o: object) => void}>)[
      Symbol.for('switchboard.page-bus')
    ]!;
    bus.subscribe('switchboard.connection.changed', (e) => void w.statuses.push(e.data.status), {replay: false});
  });
}

const row = (page: Page, id: unknown) => page.locator(`shop-activity-feed li[data-id="${String(id)}"]`);

test('an event POSTed as a CloudEvent appears in an app', async ({page, request}) => {
  const errors = pageErrors(page);
  await page.goto('/');
  await shellReady(page);
  const id = `ce-${Date.now()}`;
  const response = await request.post('/api/topics/orders/events', {
    headers: {...producer, 'content-type': 'application/cloudevents+json'},
    data: {specversion: '1.0', id, source: 'urn:e2e', type: 'order.placed', data: {orderId: 'o-ce', sku: 'tea-oolong', quantity: 2}},
  });
  expect(response.status()).toBe(202);
  await expect(row(page, id).locator('[data-field="source"]')).toHaveText('urn:e2e');
  expect(errors).toEqual([]);
});

for (const transport of ['WebSockets', 'LongPolling'] as const) {
  test(`the indicator shows "reconnecting" while the server drops the connection, and nothing is lost (${transport})`, async ({page, request}) => {
    await page.goto(`/?transport=${transport}`);
    await shellReady(page);
    await recordStatuses(page);
    const before = orderPlaced('o-before');
    await request.post('/api/topics/orders/events', {data: before, headers: producer});
    await expect(row(page, before['id'])).toHaveCount(1);

    // The server closes the connection (inviting a reconnect) and keeps publishing meanwhile.
    expect((await request.post(`/api/connections/${await connectionId(page)}/drop?mode=reconnect`, {headers: producer})).status()).toBe(202);
    const during = [orderPlaced('o-during-1'), orderPlaced('o-during-2')];
    for (const e of during) expect((await request.post('/api/topics/orders/events', {data: e, headers: producer})).status()).toBe(202);

    await expect.poll(() => page.evaluate(() => (window as unknown as {statuses: string[]}).statuses)).toEqual(['reconnecting', 'connected']);
    await hubConnected(page);
    for (const e of [before, ...during]) await expect(row(page, e['id'])).toHaveCount(1);
  });
}

test('a page reloaded mid-stream resumes from its last offset: nothing missed, nothing twice', async ({page, request}) => {
  await page.goto('/');
  await shellReady(page);
  const first = orderPlaced('o-first');
  await request.post('/api/topics/orders/events', {data: first, headers: producer});
  await expect(row(page, first['id'])).toHaveCount(1);
  const stored = await page.evaluate(() => Object.entries(sessionStorage).find(([k]) => k.startsWith('switchboard:offsets:'))?.[1]);
  expect(JSON.parse(stored!)).toEqual(expect.objectContaining({orders: expect.stringMatching(/^[A-Za-z0-9_-]+:\d+$/)}));

  // Published while the page is gone: the reloaded page gets these from the hub's replay.
  const whileAway = [orderPlaced('o-away-1'), orderPlaced('o-away-2')];
  await page.goto('about:blank');
  for (const e of whileAway) await request.post('/api/topics/orders/events', {data: e, headers: producer});
  await page.goBack();
  await shellReady(page);
  for (const e of whileAway) await expect(row(page, e['id'])).toHaveCount(1);
  // The event seen before the reload is not replayed into the new page.
  await expect(row(page, first['id'])).toHaveCount(0);
});
