import {expect, test} from '@playwright/test';
import {orderPlaced, pageErrors, producer, shellReady} from './support';

test.describe('the shell', () => {
  test('an order placed in the form is accepted by the server and its event shows, with its envelope fields, in the activity feed', async ({page}) => {
    const errors = pageErrors(page);
    await page.goto('/');
    await shellReady(page);
    const form = page.locator('shop-order-form');
    await form.getByLabel('Quantity').fill('2');
    await form.getByRole('button', {name: 'Place order'}).click();
    await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/);
    const orderId = /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;

    const row = page.locator('shop-activity-feed li[data-type="order.placed"]', {hasText: orderId});
    await expect(row).toHaveCount(1);
    const id = await row.getAttribute('data-id');
    // A random UUID (v4), or on Redis one derived from the command's id (v8), so a resent command is stored once.
    // A page bus mints ids as its random UUID prefix and a counter.
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[48][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\.\d+)?$/);
    await expect(row.locator('[data-field="id"]')).toHaveText(id!);
    await expect(row.locator('[data-field="source"]')).toHaveText('service:orders');
    // The flow's correlation is the command's id: the click started it.
    await expect(row.locator('[data-field="correlationId"]')).toHaveText(/^[0-9a-f-]{36}(\.\d+)?$/);
    await expect(row.locator('[data-field="time"]')).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(JSON.parse((await row.locator('[data-field="data"]').textContent())!)).toEqual({orderId, sku: 'tea-sencha', quantity: 2});
    expect(errors).toEqual([]);
  });

  test('an event POSTed to the topics API reaches the activity feed through the hub', async ({page, request}) => {
    const errors = pageErrors(page);
    await page.goto('/');
    await shellReady(page);

    const envelope = orderPlaced('o-from-server');
    const response = await request.post('/api/topics/orders/events', {data: envelope, headers: producer});
    expect(response.status()).toBe(202);
    expect(await response.json()).toEqual({offset: expect.stringMatching(/^[A-Za-z0-9_-]+:\d+$/)});

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
