/**
 * `npm start`: serves the built demo and the hub on http://localhost:${PORT:-8080}, in memory, or
 * on Redis when REDIS_URL is set (several such processes then share topics and connections).
 * AMQP_URL joins a RabbitMQ broker: orders from `shop.sales` in, the shop's topics out to `shop.events`,
 * and the shop's services consume durable queues there (SHOP_SERVICES=external: in `npm run services` processes only).
 * Ctrl-C (SIGINT) or SIGTERM closes every connection cleanly and exits.
 */
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {existsSync} from 'node:fs';
import {shopRegistry} from '@switchboard/shop-contracts';
import {Shop, shopPolicies} from './domain/shop';
import {pageTokenRoute} from './page-tokens';
import {startDeploys} from './deploys';
import {declareShopQueues, shopBridge} from './rabbitmq';
import {RabbitServices} from './domain/rabbit/rabbit-services';
import {DEFAULT_QUEUE_TYPE, QUEUE_TYPES, redactAmqpUrl, type QueueType} from '@switchboard/rabbitmq';
import {randomUUID} from 'node:crypto';
import {hasScope, jwtAuthenticator, redisEngine, SwitchboardServer, type Authenticator} from '@switchboard/hub';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// STATIC_DIR: the built shell and apps to serve (default dist/ at the repository root).
const staticDir = resolve(process.env['STATIC_DIR'] ?? resolve(root, 'dist'));
const port = Number(process.env['PORT'] ?? 8080);
const host = process.env['HOST'] ?? '127.0.0.1';

// CORS_ORIGINS: comma-separated origins whose pages may embed the apps and connect to the hub.
const list = (name: string) => (process.env[name] ?? '').split(',').map((o) => o.trim()).filter(Boolean);
const origins = list('CORS_ORIGINS');
// PUBLIC_HOSTS: comma-separated names (host or host:port) the server is reached by; requests for other names (DNS rebinding) get 403;
// default the loopback names (and IP literals are always served); * serves any Host.
const publicHosts = list('PUBLIC_HOSTS');
// REDIS_URL: the one switch to scale out (topics on Redis Streams, the hub's backplane on pub/sub).
const redisUrl = process.env['REDIS_URL'];
const engine = redisUrl === undefined || redisUrl === '' ? undefined : redisEngine({url: redisUrl});

// Open by default. AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL turns on tokens for the hub and every
// /api route; AUTH_ALLOW_ANONYMOUS=1 lets requests without a token in as anonymous (pages), while
// a token, when sent, must be valid. `npm run token -- --sub alice` mints one.
const secret = process.env['AUTH_JWT_SECRET'];
const jwksUrl = process.env['AUTH_JWKS_URL'];
const authenticate: Authenticator | undefined =
  secret === undefined && jwksUrl === undefined
    ? undefined
    : jwtAuthenticator({
        ...(secret === undefined ? {jwksUrl: jwksUrl!} : {secret}),
        ...(process.env['AUTH_ISSUER'] === undefined ? {} : {issuer: process.env['AUTH_ISSUER']}),
        ...(process.env['AUTH_AUDIENCE'] === undefined ? {} : {audience: process.env['AUTH_AUDIENCE']}),
        allowAnonymous: process.env['AUTH_ALLOW_ANONYMOUS'] === '1',
      });
const server = new SwitchboardServer({
  ...(engine === undefined ? {} : {engine}),
  registry: shopRegistry(),
  staticDir,
  // Who may publish and subscribe what: the shop's services own their events.
  ...shopPolicies,
  ...(authenticate === undefined ? {} : {endpoint: {authenticate}}),
  cors: {origins: origins.includes('*') ? '*' : origins, ...(publicHosts.length === 0 ? {} : {publicHosts})},
  // SWITCHBOARD_DRILLS=1 enables POST /api/connections/{id}/drop, for resilience tests.
  drills: process.env['SWITCHBOARD_DRILLS'] === '1',
  notBuilt: 'Nothing is built yet: run "npm run build" (or "npm start", which builds and serves), then reload this page.',
});
// AMQP_URL: the RabbitMQ bridge (see server/src/rabbitmq.ts and docs/guide/rabbitmq.md); the services
// then consume durable queues there, in this process unless SHOP_SERVICES=external (`npm run services`).
const amqpUrl = process.env['AMQP_URL'];
const onRabbit = amqpUrl !== undefined && amqpUrl !== '';
const servicesWhere = process.env['SHOP_SERVICES'] ?? 'in-process';
if (servicesWhere !== 'in-process' && servicesWhere !== 'external') {
  console.error(`SHOP_SERVICES must be "in-process" or "external" (got "${servicesWhere}")`);
  process.exit(2);
}
// AMQP_QUEUE_TYPE: quorum (default) or classic, for every queue of the shop (see docs/guide/rabbitmq.md).
const queueType = (process.env['AMQP_QUEUE_TYPE'] ?? DEFAULT_QUEUE_TYPE) as QueueType;
if (!QUEUE_TYPES.includes(queueType)) {
  console.error(`AMQP_QUEUE_TYPE must be "quorum" or "classic" (got "${queueType}")`);
  process.exit(2);
}
if (servicesWhere === 'external' && !onRabbit) {
  console.error('SHOP_SERVICES=external needs AMQP_URL: the services run in `npm run services` processes on that broker');
  process.exit(2);
}
// The demo's services. PAYMENT_FAILURE_RATE (0–1, default 0.2) makes the compensation path easy to
// see; PUT /api/settings {"paymentFailureRate": 1} changes it while running.
const shop = new Shop({
  events: server.events,
  logger: server.logger.child({component: 'shop'}),
  paymentFailureRate: Number(process.env['PAYMENT_FAILURE_RATE'] ?? 0.2),
  shippingDelayMs: Number(process.env['SHIPPING_DELAY_MS'] ?? 800),
  // With tokens on, only an admin (scope "admin") may change the settings.
  ...(authenticate === undefined ? {} : {canChangeSettings: (principal) => hasScope(principal, 'admin')}),
  // On Redis: the services consume through consumer groups, this process being one consumer.
  ...(engine === undefined ? {} : {streams: {connection: engine.connection, keys: engine.keys, log: engine.log, node: `node-${randomUUID()}`}}),
  // On RabbitMQ the services' handlers consume from queues (RabbitServices); this shop keeps commands and read models.
  runServices: !onRabbit,
});
server.addRoutes(shop.routes);
const bridge = onRabbit ? shopBridge(amqpUrl, server, queueType) : undefined;
const services =
  onRabbit && servicesWhere === 'in-process'
    ? new RabbitServices({
        url: amqpUrl,
        logger: server.logger.child({component: 'shop-services'}),
        paymentFailureRate: Number(process.env['PAYMENT_FAILURE_RATE'] ?? 0.2),
        shippingDelayMs: Number(process.env['SHIPPING_DELAY_MS'] ?? 800),
        queueType,
      })
    : undefined;
if (services !== undefined) server.addHealthCheck('shopServices', () => ({ok: services.connected, connected: services.connected, handled: services.handled}));
// GET /auth/token, the shell's token URL: PAGE_TOKEN_TTL=<seconds> (with AUTH_JWT_SECRET) hands pages
// short-lived tokens without grants, a stand-in for a login, so the demo runs without AUTH_ALLOW_ANONYMOUS.
const pageTokenTtl = Number(process.env['PAGE_TOKEN_TTL'] ?? Number.NaN);
if (process.env['PAGE_TOKEN_TTL'] !== undefined && (secret === undefined || !(pageTokenTtl > 0))) {
  console.error('PAGE_TOKEN_TTL needs AUTH_JWT_SECRET and a number of seconds above 0');
  process.exit(2);
}
server.addRoutes(
  pageTokenRoute({
    authenticated: authenticate !== undefined,
    allowAnonymous: process.env['AUTH_ALLOW_ANONYMOUS'] === '1',
    ...(secret === undefined || !(pageTokenTtl > 0)
      ? {}
      : {issue: {secret, ttlSeconds: pageTokenTtl, ...(process.env['AUTH_ISSUER'] === undefined ? {} : {issuer: process.env['AUTH_ISSUER']}), ...(process.env['AUTH_AUDIENCE'] === undefined ? {} : {audience: process.env['AUTH_AUDIENCE']})}}),
  }),
);
// The deploy registry: SWITCHBOARD_ENV names the environment (default local); REGISTRY_OVERRIDES=1|0
// allows or refuses local overrides (default: allowed in local and development only); DATA_DIR holds
// its file without Redis. Its API needs a token with the "deploy" scope when tokens are on; without
// tokens it answers loopback only, unless REGISTRY_OPEN=1.
const overrides = process.env['REGISTRY_OVERRIDES'];
const deploys = await startDeploys({
  server,
  staticDir,
  dataDir: process.env['DATA_DIR'] ?? resolve(root, '.switchboard'),
  ...(engine === undefined ? {} : {redis: engine.connection}),
  environment: process.env['SWITCHBOARD_ENV'] ?? 'local',
  ...(overrides === undefined ? {} : {overridesAllowed: overrides === '1'}),
  access: authenticate !== undefined ? 'token' : process.env['REGISTRY_OPEN'] === '1' ? 'open' : 'loopback',
});

// The Redis engine connects in listen(); the shop's streams use its connection: listen first, then start the shop.
const notBuilt = !existsSync(resolve(staticDir, 'index.html'));

try {
  const url = await server.listen(port, host);
  await shop.start();
  await deploys.seed();
  // The services' queues exist before the hub publishes, so nothing it publishes meanwhile is unroutable.
  if (onRabbit) await declareShopQueues(amqpUrl, server.logger.child({component: 'rabbitmq'}), queueType);
  await bridge?.start();
  await services?.start();
  console.log(`Switchboard is running at ${url}  (hub: ${url}/hubs/events)  Ctrl-C stops it.`);
  if (notBuilt) console.error(`Nothing is built in ${staticDir}: run "npm run build" first (or "npm start", which builds and serves). The hub and /api run meanwhile.`);
  if (authenticate !== undefined) console.log('Access tokens are required' + (process.env['AUTH_ALLOW_ANONYMOUS'] === '1' ? ' when sent (anonymous requests allowed).' : ': mint one with "npm run token -- --sub alice".'));
} catch (error) {
  console.error(`Switchboard could not start on ${host}:${port}${redisUrl ? ` with Redis at ${redisUrl}` : ''}${amqpUrl ? ` with RabbitMQ at ${redactAmqpUrl(amqpUrl)}` : ''}: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('Stopping…');
    shop.close();
    void (services?.close() ?? Promise.resolve())
      .then(() => bridge?.close())
      .then(() => deploys.close())
      .then(() => server.close())
      .then(() => process.exit(0));
  });
}
