import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
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
});
