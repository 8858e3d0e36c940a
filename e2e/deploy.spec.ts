/**
 * Deploying one app on a running server: through the `switchboard` CLI, with no rebuild of the
 * shell and no restart; rollback, canary, refusals, restarts, two nodes on Redis, and deploys and rebuilds under open pages. Each group runs its own servers on a private copy of
 * the build, so nothing here changes what other specs see.
 */
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {expect, request, test, type Page} from '@playwright/test';
import {startRedis, type RedisServer} from '../packages/hub/test/redis-server';
import type {OwnServer} from './own-server';
import {appVersion, cli, compositionOf, openShell, privateBuild, seedRecord, startDemo, versionIn, type PageComposition} from './registry-support';
import {followingTopic, pageErrors} from './support';

/** Records every `app.*` event that reaches the page's bus, once the page follows the deploys topic. */
async function listenForDeploys(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Bus = {subscribe: (pattern: string, handler: (e: {type: string; data: unknown}) => void) => void};
    const bus = (globalThis as unknown as Record<symbol, Bus>)[Symbol.for('switchboard.page-bus')]!;
    const seen: unknown[] = ((window as unknown as {deploys: unknown[]}).deploys = []);
    bus.subscribe('app.*', (e) => seen.push({type: e.type, ...(e.data as object)}));
  });
  await followingTopic(page, 'deploys');
}

const deploysSeen = (page: Page) => page.evaluate(() => (window as unknown as {deploys: Array<Record<string, unknown>>}).deploys);

// Each CLI call and server start is a Node process loading TypeScript: allow for a busy machine, and
// run the groups one after another (in one worker), not all their servers at once.
test.describe.configure({mode: 'default', timeout: 120_000});

test.describe('deploy, rollback, canary and refusals on one server', () => {
  test.describe.configure({mode: 'serial'});
  let build: ReturnType<typeof privateBuild>;
  let server: OwnServer;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    build = privateBuild();
    server = await startDemo({DATA_DIR: build.data, STATIC_DIR: build.dist});
  });
  test.afterAll(async () => {
    await server?.stop();
    build?.remove();
  });

  test('a deploy through the CLI reaches new page loads and open pages, with no rebuild and no restart; rollback goes back', async ({page, browser, baseURL: _}) => {
    const errors = pageErrors(page);
    const pid = server.pid;
    const v1 = seedRecord(build.dist, 'order-tracker').version;
    await openShell(page, server.url);
    await listenForDeploys(page);

    const deployed = await cli(server.url, 'deploy', appVersion(build.dist, 'order-tracker', '2.0.0'));
    expect(deployed.err).toBe('');
    expect(deployed.code).toBe(0);
    expect(deployed.out).toContain('order-tracker@2.0.0');
    await expect.poll(() => deploysSeen(page)).toContainEqual(expect.objectContaining({type: 'app.deployed', name: 'order-tracker', version: '2.0.0', previous: v1, channel: 'stable'}));

    const fresh = await browser.newPage();
    const loaded: string[] = [];
    fresh.on('request', (r) => loaded.push(new URL(r.url()).pathname));
    await openShell(fresh, server.url);
    expect(versionIn(await compositionOf(fresh), 'order-tracker')).toBe('2.0.0');
    expect(loaded.some((p) => /^\/deploys\/order-tracker\/2\.0\.0-[^/]+\/order-tracker\.js$/.test(p))).toBe(true);
    await fresh.close();

    const back = await cli(server.url, 'rollback', 'order-tracker');
    expect(back.err).toBe('');
    expect(back.code).toBe(0);
    await expect.poll(() => deploysSeen(page)).toContainEqual(expect.objectContaining({type: 'app.rolledback', name: 'order-tracker', version: v1, from: '2.0.0'}));
    const after = await browser.newPage();
    await openShell(after, server.url);
    expect(versionIn(await compositionOf(after), 'order-tracker')).toBe(v1);
    await after.close();

    const history = await cli(server.url, 'history', 'order-tracker');
    expect(history.out).toMatch(/deploy +order-tracker@2\.0\.0[\s\S]*rollback order-tracker@/);
    expect(server.pid).toBe(pid);
    expect(server.alive).toBe(true);
    expect(errors).toEqual([]);
  });

  test('a 50% canary gives both versions across visitors, each visitor always the same; promote makes it everyone\'s', async () => {
    const v1 = seedRecord(build.dist, 'order-tracker').version;
    const canary = await cli(server.url, 'deploy', appVersion(build.dist, 'order-tracker', '3.0.0'), '--canary', '50');
    expect(canary.code).toBe(0);
    const seen: string[] = [];
    for (let i = 0; i < 24; i++) {
      const visitor = await request.newContext({baseURL: server.url});
      const first = (await (await visitor.get('/composition.json')).json()) as PageComposition;
      const again = (await (await visitor.get('/composition.json')).json()) as PageComposition;
      expect(versionIn(again, 'order-tracker')).toBe(versionIn(first, 'order-tracker'));
      seen.push(versionIn(first, 'order-tracker')!);
      await visitor.dispose();
    }
    expect(new Set(seen)).toEqual(new Set([v1, '3.0.0']));

    expect((await cli(server.url, 'promote', 'order-tracker')).code).toBe(0);
    const anyone = (await (await fetch(`${server.url}/composition.json`)).json()) as PageComposition;
    expect(versionIn(anyone, 'order-tracker')).toBe('3.0.0');
    expect((await cli(server.url, 'rollback', 'order-tracker')).code).toBe(0);
  });

  test('a wrong integrity, an unreachable module and a breaking contract are refused, and nothing changes', async () => {
    const probeBody = "customElements.define('x-probe', class extends HTMLElement { connectedCallback() { this.textContent = 'probe'; } });\n";
    const probe = appVersion(build.dist, 'live-metrics', '1.0.0', {name: 'probe', tag: 'x-probe', title: 'Probe', publishes: [], consumes: ['metrics.alert'], requires: {}, standalone: undefined, standaloneIntegrity: undefined}, probeBody);
    expect((await cli(server.url, 'deploy', probe)).code).toBe(0);
    const before = await (await fetch(`${server.url}/composition.json`)).text();
    const revision = (JSON.parse(before) as PageComposition).revision;

    const lying = await cli(server.url, 'deploy', appVersion(build.dist, 'order-form', '2.0.0', {integrity: `sha384-${'A'.repeat(64)}`}));
    expect(lying.code).toBe(1);
    expect(lying.err).toContain('does not match its integrity');
    const gone = await cli(server.url, 'deploy', appVersion(build.dist, 'order-form', '2.0.1', {module: '/deploys/order-form/none/order-form.js'}));
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/unreachable \(HTTP 404\)/);
    const breaking = await cli(server.url, 'deploy', appVersion(build.dist, 'live-metrics', '2.0.0', {publishes: []}));
    expect(breaking.code).toBe(1);
    expect(breaking.err).toContain('probe@1.0.0 consumes "metrics.alert"');
    expect(breaking.err).toContain('live-metrics@');
    const stale = await cli(server.url, 'rollback', 'probe', '--expect', String(Number(revision) - 1));
    expect(stale.code).toBe(1);
    expect(stale.err).toContain(`revision ${revision}`);

    const after = await (await fetch(`${server.url}/composition.json`)).text();
    expect(after).toBe(before);
  });

  test('the registry survives a server restart', async () => {
    const before = (await (await fetch(`${server.url}/composition.json`)).json()) as PageComposition;
    await server.stop();
    await server.start();
    const after = (await (await fetch(`${server.url}/composition.json`)).json()) as PageComposition;
    expect(after.revision).toBe(before.revision);
    expect(after.apps.map((a) => [a.name, a.version])).toEqual(before.apps.map((a) => [a.name, a.version]));
  });

  test('deploys and a rebuild under the running server break no open or new page, and the process stays up', async ({browser}) => {
    const open = await browser.newPage();
    const errors = pageErrors(open);
    await openShell(open, server.url);
    await listenForDeploys(open);
    const loads: Array<Promise<void>> = [];
    const fresh: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage();
      fresh.push(page);
      const pageErrs = pageErrors(page);
      loads.push(openShell(page, server.url).then(() => expect(pageErrs).toEqual([])));
      expect((await cli(server.url, 'deploy', appVersion(build.dist, 'inventory', `4.0.${i}`))).code).toBe(0);
    }
    // A rebuild: new hashed files, the page rewritten, the seed written last; the server deploys it.
    const record = seedRecord(build.dist, 'order-form');
    const renamed = record.module.replace(/\.js$/, '-rebuilt.js');
    copyFileSync(join(build.dist, record.module), join(build.dist, renamed));
    writeFileSync(join(build.dist, renamed), `${readFileSync(join(build.dist, renamed), 'utf8')}\n// rebuilt\n`);
    const seedPath = join(build.dist, 'registry-seed.json');
    const seed = JSON.parse(readFileSync(seedPath, 'utf8')) as {build: string; records: Array<Record<string, unknown>>};
    const {createHash} = await import('node:crypto');
    const rebuilt = {...record, version: `${record.version.split('+')[0]}+rebuilt`, module: renamed, integrity: `sha384-${createHash('sha384').update(readFileSync(join(build.dist, renamed))).digest('base64')}`};
    seed.records = seed.records.map((r) => (r['name'] === 'order-form' ? rebuilt : r));
    seed.build = `${seed.build}-rebuilt`;
    writeFileSync(join(build.dist, 'index.html'), readFileSync(join(build.dist, 'index.html')));
    writeFileSync(seedPath, JSON.stringify(seed));
    await expect.poll(() => deploysSeen(open), {timeout: 15_000}).toContainEqual(expect.objectContaining({name: 'order-form', version: rebuilt.version}));
    await Promise.all(loads);
    const next = await browser.newPage();
    await openShell(next, server.url);
    expect(versionIn(await compositionOf(next), 'order-form')).toBe(rebuilt.version);
    expect(versionIn(await compositionOf(next), 'inventory')).toBe('4.0.2');
    await expect(open.locator('.tile[data-state="ready"]')).toHaveCount(await open.locator('.tile').count());
    expect(errors).toEqual([]);
    expect(server.alive).toBe(true);
    for (const p of [open, next, ...fresh]) await p.close();
  });
});

test.describe('on Redis', () => {
  let build: ReturnType<typeof privateBuild>;
  let redis: RedisServer;
  let a: OwnServer;
  let b: OwnServer;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    build = privateBuild();
    redis = await startRedis();
    const env = {STATIC_DIR: build.dist, DATA_DIR: build.data, REDIS_URL: redis.url};
    a = await startDemo(env);
    b = await startDemo(env);
  });
  test.afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    build?.remove();
  });

  test('two nodes serve the same composition, before and after a deploy on one of them', async ({page}) => {
    const compositionAt = async (url: string) => (await (await fetch(`${url}/composition.json`)).json()) as PageComposition;
    expect(await compositionAt(b.url)).toEqual(await compositionAt(a.url));
    expect((await cli(a.url, 'deploy', appVersion(build.dist, 'notifications', '2.0.0'))).code).toBe(0);
    const [onA, onB] = [await compositionAt(a.url), await compositionAt(b.url)];
    expect(onB).toEqual(onA);
    expect(versionIn(onB, 'notifications')).toBe('2.0.0');
    await openShell(page, b.url);
    expect(versionIn(await compositionOf(page), 'notifications')).toBe('2.0.0');
  });
});
