/**
 * `npm start`: serves the built demo and the hub on http://localhost:${PORT:-8080}, in memory, or
 * on Redis when REDIS_URL is set (several such processes then share topics and connections).
 * Ctrl-C (SIGINT) or SIGTERM closes every connection cleanly and exits.
 */
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {existsSync} from 'node:fs';
import {shopRegistry} from '@switchboard/shop-contracts';
import {Shop} from './domain/shop';
import {randomUUID} from 'node:crypto';
import {redisEngine, SwitchboardServer} from '@switchboard/hub';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const staticDir = resolve(root, 'dist');
const port = Number(process.env['PORT'] ?? 8080);
const host = process.env['HOST'] ?? '127.0.0.1';

// CORS_ORIGINS: comma-separated origins whose pages may embed the apps and connect to the hub.
const origins = (process.env['CORS_ORIGINS'] ?? '').split(',').map((o) => o.trim()).filter(Boolean);
// REDIS_URL: the one switch to scale out (topics on Redis Streams, the hub's backplane on pub/sub).
const redisUrl = process.env['REDIS_URL'];
const engine = redisUrl === undefined || redisUrl === '' ? undefined : redisEngine({url: redisUrl});
const server = new SwitchboardServer({
  ...(engine === undefined ? {} : {engine}),
  registry: shopRegistry(),
  staticDir,
  cors: {origins: origins.includes('*') ? '*' : origins},
  // SWITCHBOARD_DRILLS=1 enables POST /api/connections/{id}/drop, for resilience tests.
  drills: process.env['SWITCHBOARD_DRILLS'] === '1',
});
// The demo's services. PAYMENT_FAILURE_RATE (0–1, default 0.2) makes the compensation path easy to
// see; PUT /api/settings {"paymentFailureRate": 1} changes it while running.
const shop = new Shop({
  events: server.events,
  logger: server.logger.child({component: 'shop'}),
  paymentFailureRate: Number(process.env['PAYMENT_FAILURE_RATE'] ?? 0.2),
  shippingDelayMs: Number(process.env['SHIPPING_DELAY_MS'] ?? 800),
  // On Redis: the services consume through consumer groups, this process being one consumer.
  ...(engine === undefined ? {} : {streams: {connection: engine.connection, keys: engine.keys, log: engine.log, node: `node-${randomUUID()}`}}),
});
server.addRoutes(shop.routes);
// The Redis engine connects in listen(); the shop's streams use its connection: listen first, then start the shop.
if (!existsSync(staticDir)) server.logger.warn(`${staticDir} is missing: run "npm run build" to serve the demo pages`);

try {
  const url = await server.listen(port, host);
  await shop.start();
  console.log(`Switchboard is running at ${url}  (hub: ${url}/hubs/events)  Ctrl-C stops it.`);
} catch (error) {
  console.error(`Switchboard could not start on ${host}:${port}${redisUrl ? ` with Redis at ${redisUrl}` : ''}: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('Stopping…');
    shop.close();
    void server.close().then(() => process.exit(0));
  });
}
