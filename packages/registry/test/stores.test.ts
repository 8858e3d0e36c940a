import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DEFAULT_COMMAND_TIMEOUT_MS} from '@switchboard/hub';
import {DeployRegistry, FileRegistryStore, REGISTRY_FILE, RedisRegistryStore} from '@switchboard/registry';
import {startRedis, type RedisServer} from '../../hub/test/redis-server.js';
import {app, moduleServer, type ModuleServer} from './helpers.js';

let modules: ModuleServer;
beforeAll(async () => {
  modules = await moduleServer();
});
afterAll(() => modules.close());

describe('FileRegistryStore', () => {
  it('survives a restart: state and history are read back from the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-registry-'));
    try {
      const first = new DeployRegistry({store: new FileRegistryStore(dir)});
      await first.deploy(app(modules, 'orders', '1.0.0'));
      await first.deploy(app(modules, 'orders', '2.0.0'), {canary: {percent: 25}});
      await first.close();
      const second = new DeployRegistry({store: new FileRegistryStore(dir)});
      const state = await second.state();
      expect(state.revision).toBe(2);
      expect(state.apps['orders']!.canary).toEqual({version: '2.0.0', percent: 25});
      expect((await second.history()).map((c) => c.version)).toEqual(['1.0.0', '2.0.0']);
      // Written by rename: no temporary file is left behind.
      expect(readdirSync(dir)).toEqual([REGISTRY_FILE]);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('refuses to start on a damaged file rather than start empty and lose it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-registry-'));
    try {
      writeFileSync(join(dir, REGISTRY_FILE), '{"state":');
      await expect(new FileRegistryStore(dir).open()).rejects.toThrow(/not readable.*move it away/);
      expect(readFileSync(join(dir, REGISTRY_FILE), 'utf8')).toBe('{"state":');
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

describe('RedisRegistryStore (real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it('two nodes see the same state, and of two concurrent deploys exactly one wins', async () => {
    const a = new DeployRegistry({store: new RedisRegistryStore({url: redis.url, prefix: 'test:race'})});
    const b = new DeployRegistry({store: new RedisRegistryStore({url: redis.url, prefix: 'test:race'})});
    try {
      await a.deploy(app(modules, 'orders', '1.0.0'));
      expect((await b.compose({id: 'v'})).composition.apps[0]!.version).toBe('1.0.0');
      const results = await Promise.allSettled([
        a.deploy(app(modules, 'orders', '2.0.0'), {expect: '1'}),
        b.deploy(app(modules, 'orders', '3.0.0'), {expect: '1'}),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [sa, sb] = [await a.state(), await b.state()];
      expect(sa).toEqual(sb);
      expect(sa.revision).toBe(2);
      expect((await b.history()).map((c) => c.version)).toEqual(['1.0.0', sa.apps['orders']!.stable]);
      expect((await a.history(1)).length).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a paused Redis (SIGSTOP) refuses a commit within the command timeout, and the commit it runs on waking changes nothing', async () => {
    const paused = await startRedis();
    const store = new RedisRegistryStore({url: paused.url, prefix: 'test:stall'});
    const registry = new DeployRegistry({store});
    try {
      await registry.deploy(app(modules, 'orders', '1.0.0'));
      const before = await registry.state();
      const [change] = await registry.history();
      paused.pause();
      // A commit sent to the paused Redis: refused to its caller after the timeout.
      const started = Date.now();
      const refused = await store.commit(before.revision, {...before, revision: before.revision + 1}, {...change!, revision: 2, version: '9.9.9'}).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(refused?.message).toMatch(/Redis did not answer within 1500 ms/);
      expect(Date.now() - started).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + 1500);
      // Known to be stalled now: a deploy is refused at once.
      await expect(registry.deploy(app(modules, 'orders', '2.0.0'))).rejects.toThrow(/Redis is not answering/);
      // Past the commit's deadline, then awake: Redis runs what it was sent, and the commit refuses.
      await new Promise((r) => setTimeout(r, 500));
      paused.resume();
      let state;
      for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        state = await registry.state().catch(() => undefined);
        if (state !== undefined) break;
      }
      expect(state?.revision).toBe(1);
      expect((await registry.history()).map((c) => c.version)).toEqual(['1.0.0']);
      // And deploys work again.
      await registry.deploy(app(modules, 'orders', '2.0.0'));
      expect((await registry.state()).apps['orders']!.stable).toBe('2.0.0');
    } finally {
      paused.resume();
      await registry.close();
      await paused.stop();
    }
  }, 30_000);

  it('a store on an unreachable Redis refuses with a clear error, then works once Redis is up', async () => {
    const later = await startRedis();
    await later.kill();
    const registry = new DeployRegistry({store: new RedisRegistryStore({url: later.url, prefix: 'test:later'})});
    try {
      await expect(registry.state()).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer|ECONNREFUSED|unreachable/);
      await later.restart();
      await registry.deploy(app(modules, 'orders', '1.0.0'));
      expect((await registry.state()).apps['orders']!.stable).toBe('1.0.0');
    } finally {
      await registry.close();
      await later.stop();
    }
  }, 30_000);
});
