import {expect, test} from '@playwright/test';
import {connectionId, followingTopic, oneHubConnected, orderPlaced, pageErrors, producer, shellReady} from './support';

/** The official browser client, pinned to each transport by the shell's ?transport= parameter. */
for (const transport of ['WebSockets', 'ServerSentEvents', 'LongPolling'] as const) {
  test(`the browser client receives server events over ${transport}`, async ({page, request}) => {
    const errors = pageErrors(page);
    await page.goto(`/?transport=${transport}`);
    await shellReady(page);
    // Ask the server how this page's own connection travels.
    const id = await connectionId(page);
    const info = await request.get(`/api/connections/${id}`);
    expect(await info.json()).toEqual({connectionId: id, transport, protocol: 'json'});

    const envelope = orderPlaced(`o-${transport}`);
    expect((await request.post('/api/topics/orders/events', {data: envelope, headers: producer})).status()).toBe(202);
    await expect(page.locator(`shop-activity-feed li[data-id="${envelope['id']}"]`)).toHaveCount(1);
    expect(errors).toEqual([]);
  });
}

test('an app embedded in a page of another origin loads and connects with CORS', async ({page, request}) => {
  const errors = pageErrors(page);
  await page.goto(`http://localhost:${process.env['SB_E2E_OTHER_PORT']}/embed.html`);
  await oneHubConnected(page);
  await followingTopic(page);
  const envelope = orderPlaced('o-cross-origin');
  expect((await request.post('/api/topics/orders/events', {data: envelope, headers: producer})).status()).toBe(202);
  await expect(page.locator(`shop-activity-feed li[data-id="${envelope['id']}"]`)).toHaveCount(1);
  expect(errors).toEqual([]);
});
