/**
 * The shell against a server that requires tokens everywhere (AUTH_JWT_SECRET, no anonymous
 * access): the page gets its token from the token URL its `<meta name="switchboard-token-url">`
 * names (the demo's /auth/token, PAGE_TOKEN_TTL), connects, loads its read models with it, and
 * fetches a fresh one each time the server closes the connection at the token's expiry.
 */
import {expect, test} from '@playwright/test';
import {OwnServer} from './own-server';
import {pageErrors, shellReady} from './support';

const SECRET = 'strict-auth-e2e-secret-of-at-least-32-bytes';
/** Page tokens live this long: the spec sees at least one expire and be replaced. */
const PAGE_TOKEN_TTL = 5;

let server: OwnServer | undefined;
test.beforeAll(async () => {
  server = await OwnServer.start({AUTH_JWT_SECRET: SECRET, PAGE_TOKEN_TTL: String(PAGE_TOKEN_TTL), PAYMENT_FAILURE_RATE: '0'});
});
test.afterAll(async () => server?.stop());

test.setTimeout(60_000);

test('the shell connects through its token URL, loads the read models, and reconnects with a fresh token after expiry', async ({page, request}) => {
  const url = server!.url;
  // Nothing works without a token.
  expect((await request.get(`${url}/api/orders`)).status()).toBe(401);
  expect((await request.post(`${url}/hubs/events/negotiate?negotiateVersion=1`)).status()).toBe(401);

  const errors = pageErrors(page);
  let tokens = 0;
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/auth/token' && response.status() === 200) tokens++;
  });
  await page.goto(url);
  await shellReady(page);
  // The read models came with the token: stock levels and the settings menu show the server's values.
  await expect(page.locator('shop-inventory td.level').first()).toHaveText(/^\d+$/);
  await expect(page.locator('#failure-rate')).toHaveValue('0');

  // The first token expires: the server closes the connection, the page asks the token URL again and reconnects.
  const first = tokens;
  await expect.poll(() => tokens, {timeout: (PAGE_TOKEN_TTL + 10) * 1000}).toBeGreaterThan(first);
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected');

  // Still fully working: an order goes from the form through the saga to the tracker.
  const form = page.locator('shop-order-form');
  await form.getByLabel('Tea').selectOption('tea-sencha');
  await form.getByLabel('Quantity').fill('1');
  await form.getByRole('button', {name: 'Place order'}).click();
  await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/);
  const orderId = /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;
  await expect(page.locator(`shop-order-tracker li[data-order="${orderId}"]`)).toHaveAttribute('data-status', 'shipped');
  // The one console error allowed: at each expiry the official client first tries to reattach its
  // stateful-reconnect WebSocket to the connection the server just closed (404), then negotiates anew.
  const reattach = /^WebSocket connection to .* failed: Error during WebSocket handshake: Unexpected response code: 404$/;
  expect(errors.filter((e) => !reattach.test(e))).toEqual([]);
});

test('without page tokens the shell says why it cannot connect and what to set, and does not hammer the server', async ({page}) => {
  // Tokens required, but no PAGE_TOKEN_TTL: the token URL answers 404 with the server's hint.
  const noTokens = await OwnServer.start({AUTH_JWT_SECRET: SECRET, PAYMENT_FAILURE_RATE: '0'});
  try {
    let asked = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/auth/token') asked++;
    });
    await page.goto(noTokens.url);
    const reason = page.locator('#hub-reason');
    await expect(reason).toBeVisible();
    await expect(reason).toHaveText(/could not get an access token: the token endpoint .*\/auth\/token answered 404: .*start it with PAGE_TOKEN_TTL=<seconds> \(and AUTH_JWT_SECRET\)/);
    await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'reconnecting');
    await expect(page.locator('#hub-status')).toHaveText(/next try in 30 s/);
    // One ask per page hub, then a 30 s wait: what a retry loop without a pause would have repeated by now, it did not.
    const seen = asked;
    await page.waitForTimeout(1500);
    expect(asked).toBe(seen);
  } finally {
    await noTokens.stop();
  }
});
