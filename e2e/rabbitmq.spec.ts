/**
 * The demo on RabbitMQ (AMQP_URL) in Chromium: an order another sales channel publishes to the
 * `shop.sales` exchange (a binary-mode CloudEvent) shows in the page and runs the saga; what the page
 * causes (its own order) reaches a consumer of the `shop.events` exchange.
 */
import {spawn} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {expect, test} from '@playwright/test';
import amqp, {type ChannelModel} from 'amqplib';
import {startRabbit, type RabbitServer} from '../packages/rabbitmq/test/rabbitmq-server';
import {testServerArgs} from '../scripts/test-servers';
import {freePort} from './own-server';
import {placeOrder, shellReady, tracked} from './support';

test.describe.configure({mode: 'serial'});

const root = fileURLToPath(new URL('..', import.meta.url));

/** The demo as `npm start` serves it, on a free port, with `env`; resolves once /healthz answers (generous: the broker start already loads the machine). */
async function startDemo(env: Record<string, string>): Promise<{url: string; stop(): Promise<void>}> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const child = spawn(process.execPath, testServerArgs('demo-server-dist'), {
    cwd: root,
    env: {...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHIPPING_DELAY_MS: '100', ...env},
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the demo did not answer on ${url} within 90 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let rabbit: RabbitServer;
let server: {url: string; stop(): Promise<void>};
let client: ChannelModel;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  rabbit = await startRabbit();
  server = await startDemo({AMQP_URL: rabbit.url, PAYMENT_FAILURE_RATE: '0'});
  client = await amqp.connect(rabbit.url);
  // /healthz answers once the server listens; the bridge (and its exchanges) a moment later.
  await expect.poll(async () => ((await (await fetch(`${server.url}/healthz`)).json()) as {rabbitmq?: {connected: boolean}}).rabbitmq?.connected, {timeout: 30_000}).toBe(true);
});

test.afterAll(async () => {
  await client?.close().catch(() => {});
  await server?.stop();
  await rabbit?.stop();
});

test('an order published to RabbitMQ shows in the page; the page\'s own order reaches a RabbitMQ consumer', async ({page}) => {
  const channel = await client.createConfirmChannel();
  const {queue} = await channel.assertQueue('', {exclusive: true});
  await channel.bindQueue(queue, 'shop.events', 'order.*');
  const seen: Array<{type: string; data: {orderId: string}}> = [];
  await channel.consume(queue, (m) => {
    if (m !== null) seen.push(JSON.parse(m.content.toString()) as {type: string; data: {orderId: string}});
  }, {noAck: true});

  await page.goto(server.url);
  await shellReady(page);
  const orderId = `o-amqp-${randomUUID().slice(0, 8)}`;
  const id = randomUUID();
  channel.publish('shop.sales', 'order.placed', Buffer.from(JSON.stringify({orderId, sku: 'tea-assam', quantity: 1})), {
    contentType: 'application/json',
    persistent: true,
    headers: {cloudEvents_specversion: '1.0', cloudEvents_id: id, cloudEvents_source: 'sales:phone', cloudEvents_type: 'order.placed'},
  });
  await channel.waitForConfirms();
  await expect(tracked(page, orderId)).toBeVisible();
  await expect(tracked(page, orderId)).toHaveAttribute('data-status', 'shipped');

  const own = await placeOrder(page, 'tea-sencha', 1);
  await expect(tracked(page, own)).toHaveAttribute('data-status', 'shipped');
  await expect.poll(() => seen.filter((e) => e.data.orderId === own).map((e) => e.type)).toEqual(expect.arrayContaining(['order.placed', 'order.confirmed', 'order.shipped']));
  expect(seen.filter((e) => e.data.orderId === orderId).map((e) => e.type)).toContain('order.placed');
});

test('with SHOP_SERVICES=external the page\'s order waits for the services, and ships once `npm run services` runs', async ({page}) => {
  test.setTimeout(120_000);
  const url = await rabbit.vhost();
  const demo = await startDemo({AMQP_URL: url, SHOP_SERVICES: 'external', PAYMENT_FAILURE_RATE: '0'});
  let services: ReturnType<typeof spawn> | undefined;
  try {
    await expect.poll(async () => ((await (await fetch(`${demo.url}/healthz`)).json()) as {rabbitmq?: {connected: boolean}}).rabbitmq?.connected, {timeout: 30_000}).toBe(true);
    await page.goto(demo.url);
    await shellReady(page);
    // No services anywhere yet: the order is placed and its event waits in the services' queues.
    const own = await placeOrder(page, 'tea-oolong', 1);
    await expect(tracked(page, own)).toHaveAttribute('data-status', 'placed');
    services = spawn(process.execPath, testServerArgs('services-dist'), {
      cwd: root,
      env: {...process.env, AMQP_URL: url, PAYMENT_FAILURE_RATE: '0', SHIPPING_DELAY_MS: '100', LOG_LEVEL: 'warn'},
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await expect(tracked(page, own)).toHaveAttribute('data-status', 'shipped', {timeout: 60_000});
  } finally {
    if (services !== undefined && services.exitCode === null) {
      const exited = new Promise<void>((resolve) => services!.once('exit', () => resolve()));
      services.kill('SIGTERM');
      await exited;
    }
    await demo.stop();
  }
});

test('a wrong AMQP_URL stops npm start with a clear message', async () => {
  const wrong = new URL(rabbit.url);
  wrong.password = 'wrong';
  const child = spawn(process.execPath, testServerArgs('demo-server-dist'), {
    cwd: root,
    env: {...process.env, PORT: '0', LOG_LEVEL: 'silent', AMQP_URL: wrong.toString()},
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  expect(stderr).toMatch(/with RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+.*refused the credentials/);
  expect(stderr).not.toContain('wrong');
});
