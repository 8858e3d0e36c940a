import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {SignJWT} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ContractRegistry, DEPLOYS_TOPIC} from '@switchboard/contracts';
import {jwtAuthenticator, SwitchboardServer} from '@switchboard/hub';
import {announceDeploys, DeployRegistry, MemoryRegistryStore, registryRoutes, type RegistryAccess} from '@switchboard/registry';
import {app, moduleServer, type ModuleServer} from './helpers.js';

const SECRET = 'registry-test-secret-of-at-least-32-bytes';
const token = (scope: string) => new SignJWT({scope}).setProtectedHeader({alg: 'HS256'}).setSubject('ci').sign(new TextEncoder().encode(SECRET));

let modules: ModuleServer;
let dir: string;
beforeAll(async () => {
  modules = await moduleServer();
  dir = mkdtempSync(join(tmpdir(), 'sb-registry-page-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><title>shell</title><script type="module" src="/assets/index.js"></script></head><body></body></html>');
});
afterAll(async () => {
  await modules.close();
  rmSync(dir, {recursive: true, force: true});
});

async function serve(access: RegistryAccess, environment = 'local') {
  const server = new SwitchboardServer({
    registry: new ContractRegistry(),
    serverOwned: ['app.*'],
    ...(access === 'token' ? {endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}} : {}),
    logger: (await import('pino')).pino({level: 'silent'}),
  });
  const registry = new DeployRegistry({store: new MemoryRegistryStore(), environment});
  server.addRoutes(registryRoutes({registry, access, staticDir: dir, maxBodyBytes: 4096}));
  announceDeploys(registry, server.events);
  const url = await server.listen(0);
  return {server, registry, url};
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: typeof body === 'string' ? body : JSON.stringify(body)});

describe('the deploy API with tokens', () => {
  it('needs a token with the deploy scope', async () => {
    const {server, url} = await serve('token');
    try {
      const record = app(modules, 'orders', '1.0.0');
      expect((await post(`${url}/api/registry/deploys`, {record, expect: '0'})).status).toBe(401);
      expect((await post(`${url}/api/registry/deploys`, {record, expect: '0'}, {authorization: `Bearer ${await token('publish:orders')}`})).status).toBe(403);
      const ok = await post(`${url}/api/registry/deploys`, {record, expect: '0'}, {authorization: `Bearer ${await token('deploy')}`});
      expect(ok.status).toBe(201);
      expect(((await ok.json()) as {change: {by: string}}).change.by).toBe('ci');
      // The event reached the deploys topic.
      const events = (await (await fetch(`${url}/api/topics/${DEPLOYS_TOPIC}/events`, {headers: {authorization: `Bearer ${await token('deploy')}`}})).json()) as {events: Array<{event: {type: string; data: {name: string}}}>};
      expect(events.events.map((e) => [e.event.type, e.event.data.name])).toEqual([['app.deployed', 'orders']]);
    } finally {
      await server.close();
    }
  });
});

describe('the deploy API refuses bad requests clearly, changing nothing', () => {
  it('answers 400 without expect or JSON, 409 naming the current revision, 413 past the limit, 404 elsewhere', async () => {
    const {server, url, registry} = await serve('loopback');
    try {
      const record = app(modules, 'orders', '1.0.0');
      const noExpect = await post(`${url}/api/registry/deploys`, {record});
      expect(noExpect.status).toBe(400);
      expect(((await noExpect.json()) as {error: string}).error).toContain('"expect" is required');
      expect((await fetch(`${url}/api/registry/deploys`, {method: 'POST', headers: {'content-type': 'text/plain'}, body: '{}'})).status).toBe(400);
      expect((await post(`${url}/api/registry/deploys`, '{not json')).status).toBe(400);
      expect((await post(`${url}/api/registry/deploys`, {record, expect: '0'})).status).toBe(201);
      const stale = await post(`${url}/api/registry/apps/orders/rollback`, {expect: '0'});
      expect(stale.status).toBe(409);
      expect(await stale.json()).toMatchObject({code: 'stale_revision', current: '1'});
      expect((await post(`${url}/api/registry/deploys`, {record, expect: '1', pad: 'x'.repeat(8000)})).status).toBe(413);
      expect((await post(`${url}/api/registry/apps/orders/canary`, {expect: '1', version: '1.0.0', percent: 300})).status).toBe(400);
      expect((await fetch(`${url}/api/registry/nope`)).status).toBe(404);
      expect((await registry.state()).revision).toBe(1);
      // The server is still answering.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('the page composed per request', () => {
  it('carries the composition and one import map before any module, uncached, with a sticky visitor cookie', async () => {
    const {server, url, registry} = await serve('loopback');
    try {
      await registry.deploy(app(modules, 'orders', '1.0.0'));
      const page = await fetch(`${url}/`);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('set-cookie')).toMatch(/^switchboard-visitor=[0-9a-f-]{36}; Path=\//);
      const html = await page.text();
      const composition = html.indexOf('id="switchboard-composition"');
      expect(composition).toBeGreaterThan(0);
      expect(composition).toBeLessThan(html.indexOf('<script type="module"'));
      expect(html).toContain('"name":"orders","version":"1.0.0"');
      // Overrides are allowed locally: the import map is written by the bootstrap, still before modules.
      expect(html.indexOf('id="switchboard-importmap"')).toBeLessThan(html.indexOf('<script type="module"'));
      const json = (await (await fetch(`${url}/composition.json`)).json()) as {revision: string; apps: unknown[]};
      expect(json.revision).toBe('1');
      expect(await (await fetch(`${url}/manifest.json`)).json()).toEqual(json);
    } finally {
      await server.close();
    }
  });

  it('in production: a native import map, no overrides bootstrap', async () => {
    const {server, url} = await serve('loopback', 'production');
    try {
      const html = await (await fetch(`${url}/index.html`)).text();
      expect(html).toContain('<script type="importmap">');
      expect(html).not.toContain('switchboard-overrides');
      expect(html).toContain('"overridesAllowed":false');
    } finally {
      await server.close();
    }
  });

  it('escapes what could end the script element', async () => {
    const {server, url, registry} = await serve('loopback');
    try {
      await registry.deploy(app(modules, 'orders', '1.0.0', {title: '</script><script>alert(1)</script>'}));
      const html = await (await fetch(`${url}/`)).text();
      expect(html).not.toContain('</script><script>alert(1)');
      expect(html).toContain('\\u003c/script\\u003e');
    } finally {
      await server.close();
    }
  });
});
