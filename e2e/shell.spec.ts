import {expect, test} from '@playwright/test';
import {hubConnected, orderPlaced, pageErrors} from './support';

test.describe('the shell', () => {
  test('a click in the order form shows the event, with its envelope fields, in the activity feed', async ({page}) => {
    const errors = pageErrors(page);
    await page.goto('/');
    await hubConnected(page);
    const feed = page.locator('shop-activity-feed');

    await page.locator('shop-order-form').getByLabel('Quantity').fill('4');
    await page.locator('shop-order-form').getByRole('button', {name: 'Place order'}).click();
    const placed = await page.locator('shop-order-form output').textContent();
    const orderId = /Placed (o-\w+)/.exec(placed ?? '')?.[1];
    expect(orderId).toBeTruthy();

    // Other tests publish to the same server topic meanwhile: find this order's row.
    const row = feed.locator('li[data-type="order.placed"]', {hasText: orderId!});
    await expect(row).toHaveCount(1);
    const id = await row.getAttribute('data-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await expect(row.locator('[data-field="id"]')).toHaveText(id!);
    await expect(row.locator('[data-field="source"]')).toHaveText('mfe:shop-order-form');
    await expect(row.locator('[data-field="correlationId"]')).toHaveText(id!);
    await expect(row.locator('[data-field="time"]')).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(JSON.parse((await row.locator('[data-field="data"]').textContent())!)).toEqual({
      orderId,
      sku: 'tea-sencha',
      quantity: 4,
    });
    expect(errors).toEqual([]);
  });

  test('an event POSTed to the topics API reaches the activity feed through the hub', async ({page, request}) => {
    const errors = pageErrors(page);
    await page.goto('/');
    await hubConnected(page);

    const envelope = orderPlaced('o-from-server');
    const response = await request.post('/api/topics/orders/events', {data: envelope});
    expect(response.status()).toBe(202);
    expect(await response.json()).toEqual({offset: expect.stringMatching(/^\d+$/)});

    const row = page.locator(`shop-activity-feed li[data-id="${envelope['id']}"]`);
    await expect(row).toHaveCount(1);
    await expect(row.locator('[data-field="source"]')).toHaveText('e2e:producer');
    await expect(row.locator('[data-field="correlationId"]')).toHaveText('flow-o-from-server');
    expect(errors).toEqual([]);
  });

  test('serves the negotiate endpoint of the hub', async ({request}) => {
    const response = await request.post('/hubs/events/negotiate?negotiateVersion=1');
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({negotiateVersion: 1, availableTransports: expect.arrayContaining([expect.objectContaining({transport: 'WebSockets'})])});
    expect(typeof body.connectionToken).toBe('string');
    expect(body.connectionToken).not.toBe(body.connectionId);
  });
});
