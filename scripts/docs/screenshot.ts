/**
 * `npm run docs:screenshot`: retakes docs/demo.png from the running demo, so the picture on the
 * site shows what the shop shows today: the built demo (`npm run build` first) started on a free
 * port, three orders placed through the form (two shipped, one cancelled by a failed payment) in
 * headless Chromium, and the event timeline filtered by one order, showing its causal chain.
 */
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {chromium, expect, type Page} from '@playwright/test';
import {CHROMIUM_ARGS, findChromium} from '../chromium';
import {repoRoot} from './markdown';

/** The demo server on a free port; resolves with its URL and a function that stops it. */
async function startDemo(): Promise<{url: string; stop: () => void}> {
  const child = spawn(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', 'server/src/main.ts'], {
    cwd: repoRoot,
    env: {...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', PAYMENT_FAILURE_RATE: '0', SHIPPING_DELAY_MS: '200'},
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const stop = () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  };
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the demo server exited with ${code} before it listened: ${out}`)));
  }).catch((error: unknown) => {
    stop();
    throw error;
  });
  return {url, stop};
}

async function placeOrder(page: Page, sku: string, quantity: number): Promise<string> {
  const form = page.locator('shop-order-form');
  await form.getByLabel('Tea').selectOption(sku);
  await form.getByLabel('Quantity').fill(String(quantity));
  await form.getByRole('button', {name: /Place order/}).click();
  await expect(form.locator('output')).toHaveText(/Order o-[\w-]+ accepted/);
  return /Order (o-[\w-]+) accepted/.exec((await form.locator('output').textContent()) ?? '')![1]!;
}

const {url, stop} = await startDemo();
const browser = await chromium.launch({executablePath: findChromium(), args: CHROMIUM_ARGS});
try {
  const page = await browser.newPage({viewport: {width: 1440, height: 900}});
  await page.goto(url);
  await expect(page.locator('#hub-status')).toHaveAttribute('data-status', 'connected', {timeout: 30_000});
  const order = (id: string) => page.locator(`shop-order-tracker li[data-order="${id}"]`);
  const shipped = await placeOrder(page, 'tea-sencha', 2);
  const traced = await placeOrder(page, 'tea-oolong', 1);
  await expect(order(traced)).toHaveAttribute('data-status', 'shipped', {timeout: 15_000});
  await expect(order(shipped)).toHaveAttribute('data-status', 'shipped');
  // The third fails its payment, so the picture shows the compensation too.
  await page.locator('#failure-rate').selectOption('1');
  await expect(page.locator('#failure-rate')).toHaveValue('1');
  const cancelled = await placeOrder(page, 'tea-assam', 3);
  await expect(order(cancelled)).toHaveAttribute('data-status', 'cancelled', {timeout: 15_000});
  await page.locator('#failure-rate').selectOption('0.2'); // the default, as a visitor first sees it
  await page.getByRole('button', {name: 'Event timeline'}).click();
  const log = page.locator('sb-event-log');
  // The timeline filtered by one order: its events, and its whole flow as a tree by causation.
  await log.getByLabel('Filter events').fill(traced);
  await log.locator('li[data-type="order.shipped"] button').click();
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({path: join(repoRoot, 'docs', 'demo.png')});
  console.log('docs/demo.png retaken');
} finally {
  await browser.close();
  stop();
}
