/**
 * The docs' cross-origin embed (docs/guide/embed.md), as written: its HTML snippet on a customer's origin, the demo
 * server started with the page's CORS_ORIGINS line (the customer's origin in place of the
 * example's). Without the setting the browser blocks the hub; with it the element gets events.
 */
import {readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect, test} from '@playwright/test';
import {freePort, OwnServer} from './own-server';
import {orderPlaced, producer} from './support';

/** The secret of the producer token (playwright.config.ts mints both). */
const E2E_AUTH_SECRET = process.env['SB_E2E_AUTH_SECRET'] ?? '';

test.describe.configure({mode: 'serial'});

const section = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../docs/guide/embed.md'), 'utf8');
const snippet = /```html\n([\s\S]*?)```/.exec(section)![1]!;
const corsLine = /```sh\n(CORS_ORIGINS=\S+) npm start\n```/.exec(section)![1]!;

let customer: Server;
let customerOrigin: string;
let shop: OwnServer | undefined;

test.beforeAll(async () => {
  const port = await freePort();
  customerOrigin = `http://localhost:${port}`;
  customer = createServer((req, res) => {
    const shopOrigin = shop?.url ?? '';
    if (req.url !== '/') return void res.writeHead(404).end();
    res.writeHead(200, {'content-type': 'text/html; charset=utf-8'}).end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Customer</title></head>` +
        `<body><main><h1>A customer's page</h1>${snippet.replaceAll('https://shop.example', shopOrigin)}</main></body></html>`,
    );
  });
  await new Promise<void>((r) => customer.listen(port, '127.0.0.1', r));
});
test.afterAll(async () => {
  await shop?.stop();
  await new Promise((r) => customer.close(r));
});

test('without CORS_ORIGINS the browser blocks the embed (the module and the hub)', async ({page}) => {
  shop = await OwnServer.start({CORS_ORIGINS: ''});
  const blocked: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && /CORS|Access-Control/.test(m.text()) && blocked.push(m.text())));
  await page.goto(customerOrigin);
  await expect.poll(() => blocked.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => customElements.get('shop-activity-feed') === undefined)).toBe(true);
  await shop.stop();
  shop = undefined;
});

test('with the setting the docs give, the element embedded from another origin gets the hub events', async ({page}) => {
  // The docs' line, with this test's customer origin for the example's.
  const origins = corsLine.replace(/^CORS_ORIGINS=/, '').replace('https://customer.example', customerOrigin);
  shop = await OwnServer.start({CORS_ORIGINS: origins, AUTH_JWT_SECRET: E2E_AUTH_SECRET, AUTH_ALLOW_ANONYMOUS: '1'});
  await page.goto(customerOrigin);
  await expect.poll(() => page.evaluate(() => {
    const hubs = (globalThis as Record<symbol, Map<string, {status: string}> | undefined>)[Symbol.for('switchboard.page-hubs')];
    return hubs === undefined ? [] : [...hubs.values()].map((h) => h.status);
  })).toEqual(['connected']);
  const event = orderPlaced('o-readme');
  expect((await fetch(`${shop.url}/api/topics/orders/events`, {method: 'POST', headers: {...producer, 'content-type': 'application/json'}, body: JSON.stringify(event)})).status).toBe(202);
  await expect(page.locator(`shop-activity-feed li[data-id="${String(event['id'])}"]`)).toHaveCount(1);
});
