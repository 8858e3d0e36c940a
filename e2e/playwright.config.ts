import {createServer} from 'node:net';
import {defineConfig} from '@playwright/test';
import {CHROMIUM_ARGS, findChromium} from '../scripts/chromium';
import {mintToken} from '../scripts/token';
import {bundleTestServers, testServerArgs, type TestServer} from '../scripts/test-servers';

/** A free loopback port, chosen once: workers inherit it through the environment. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as {port: number};
      probe.close(() => resolve(port));
    });
  });
}

process.env['SB_E2E_PORT'] ??= String(await freePort());
process.env['SB_E2E_OTHER_PORT'] ??= String(await freePort());
process.env['SB_E2E_LAB_PORT'] ??= String(await freePort());
process.env['SB_E2E_REDIS_PORT'] ??= String(await freePort());
process.env['SB_E2E_ON_REDIS_PORT'] ??= String(await freePort());
/** The demo runs with tokens on (anonymous pages allowed); specs act as a granted producer with this secret's token. */
const authSecret = 'e2e-only-secret-of-at-least-32-bytes!';
process.env['SB_E2E_AUTH_SECRET'] = authSecret;
process.env['SB_E2E_PRODUCER_TOKEN'] ??= await mintToken(authSecret, {sub: 'e2e-producer', scope: 'publish:orders admin drills', ttlSeconds: 4 * 3600});
// The servers (and the registry's CLI) the run and its specs start, each bundled once here (workers inherit the environment that
// names the bundles) rather than compiled by tsx at every start: seconds of CPU each on 2 cores.
if (process.env['SB_E2E_BUNDLED'] === undefined) {
  process.env['SB_E2E_BUNDLED'] = '1';
  await bundleTestServers(['demo-server', 'fixture-server', 'redis-server', 'registry-cli']);
  // These load the build's dist/: without a build they stay on tsx and fail as they would have.
  await bundleTestServers(['demo-server-dist', 'services-dist']).catch(() => undefined);
}
/** The shell command that starts test server `name`. */
const start = (name: TestServer): string => ['node', ...testServerArgs(name)].map((word) => `'${word}'`).join(' ');
const port = Number(process.env['SB_E2E_PORT']);
const otherPort = Number(process.env['SB_E2E_OTHER_PORT']);
const baseURL = `http://localhost:${port}`;
/** Another origin, serving a customer's page that embeds an app from the Switchboard server. */
const otherOrigin = `http://localhost:${otherPort}`;
/** The lab: the kit's packages from source, served by Vite, for browser-only behaviour. */
const labPort = Number(process.env['SB_E2E_LAB_PORT']);
/** A redis-server the run starts, and the demo served on it (REDIS_URL), for the `redis` project. */
const redisPort = Number(process.env['SB_E2E_REDIS_PORT']);
const onRedisURL = `http://localhost:${process.env['SB_E2E_ON_REDIS_PORT']}`;
/** The demo as `npm start` runs it: tokens on, anonymous pages allowed, drills on, a short shipping delay. */
const demoEnv = {LOG_LEVEL: 'warn', SWITCHBOARD_DRILLS: '1', SHIPPING_DELAY_MS: '100', AUTH_JWT_SECRET: authSecret, AUTH_ALLOW_ANONYMOUS: '1'};
/** Specs that run on Redis too: the shop's flows, resume from offsets, and restarts of nodes and of Redis. */
const onRedis = ['shop.spec.ts', 'resume.spec.ts', 'redis.spec.ts'];
/**
 * Tests of those specs whose behaviour does not depend on the engine, run once (on memory): how the
 * shell contains an app that fails to load, and each app's standalone bundle on a plain page.
 */
const engineIndependent = [/a broken app stays in its tile/, / works alone on a plain page$/];

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env['CI'],
  reporter: [['list']],
  timeout: 30_000,
  expect: {timeout: 10_000},
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: {
      executablePath: findChromium(),
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  projects: [
    // Everything against the in-memory demo.
    {name: 'memory', testIgnore: ['redis.spec.ts']},
    // A subset against the demo on Redis (REDIS_URL), the other engine.
    {name: 'redis', testMatch: onRedis, grepInvert: engineIndependent, use: {baseURL: onRedisURL}},
  ],
  webServer: [
    {
      // The production build (npm test builds first) served exactly as `npm start` serves it.
      command: start('demo-server'),
      cwd: '..',
      url: `${baseURL}/healthz`,
      env: {...demoEnv, PORT: String(port), CORS_ORIGINS: otherOrigin},
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: start('redis-server'),
      cwd: '..',
      port: redisPort,
      env: {PORT: String(redisPort)},
      reuseExistingServer: false,
      timeout: 15_000,
      // SIGTERM, so it removes its directory.
      gracefulShutdown: {signal: 'SIGTERM', timeout: 5_000},
    },
    {
      command: start('demo-server'),
      cwd: '..',
      url: `${onRedisURL}/healthz`,
      env: {...demoEnv, PORT: String(process.env['SB_E2E_ON_REDIS_PORT']), REDIS_URL: `redis://127.0.0.1:${redisPort}`},
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: start('fixture-server'),
      cwd: '..',
      url: `${otherOrigin}/healthz`,
      env: {PORT: String(otherPort), HUB_ORIGIN: baseURL},
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `npx vite --config e2e/lab/vite.config.ts --port ${labPort}`,
      cwd: '..',
      url: `http://127.0.0.1:${labPort}/`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
