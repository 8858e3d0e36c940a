import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DeployRegistry, deployRecordSchema, inCanary, MemoryRegistryStore, RegistryRefusal} from '@switchboard/registry';
import {app, moduleServer, registryOn, type ModuleServer} from './helpers.js';

let modules: ModuleServer;
beforeAll(async () => {
  modules = await moduleServer();
});
afterAll(() => modules.close());

async function refusal(promise: Promise<unknown>): Promise<RegistryRefusal> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryRefusal);
  return error as RegistryRefusal;
}

describe('deploys, history and optimistic concurrency', () => {
  it('keeps every change in the history and bumps the revision each time', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'), {expect: '0', by: 'alice'});
    await registry.deploy(app(modules, 'orders', '1.1.0'), {expect: '1'});
    await registry.rollback('orders', {expect: '2'});
    const state = await registry.state();
    expect(state.revision).toBe(3);
    expect(state.apps['orders']!.stable).toBe('1.0.0');
    const history = await registry.history();
    expect(history.map((c) => [c.action, c.version, c.from])).toEqual([
      ['deploy', '1.0.0', null],
      ['deploy', '1.1.0', '1.0.0'],
      ['rollback', '1.0.0', '1.1.0'],
    ]);
    expect(history[0]!.by).toBe('alice');
  });

  it('refuses a change based on a stale revision, naming the current one, and changes nothing', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'), {expect: '0'});
    const error = await refusal(registry.deploy(app(modules, 'orders', '2.0.0'), {expect: '0'}));
    expect(error.code).toBe('stale_revision');
    expect(error.status).toBe(409);
    expect(error.current).toBe('1');
    expect(error.message).toContain('revision 1');
    expect((await registry.state()).apps['orders']!.stable).toBe('1.0.0');
  });

  it('lets exactly one of two concurrent deploys expecting the same revision win', async () => {
    const registry = registryOn();
    const results = await Promise.allSettled([
      registry.deploy(app(modules, 'orders', '1.0.0'), {expect: '0'}),
      registry.deploy(app(modules, 'orders', '1.0.1'), {expect: '0'}),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as RegistryRefusal).code).toBe('stale_revision');
    expect((await registry.history()).length).toBe(1);
  });

  it('keeps versions immutable: the same version with other content is refused', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    const changed = {...app(modules, 'orders', '1.0.0'), title: 'Other'};
    expect((await refusal(registry.deploy(changed))).code).toBe('immutable_version');
  });

  it('refuses an unreachable module and a wrong integrity, changing nothing', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    const gone = {...app(modules, 'orders', '2.0.0'), module: `${modules.url}/missing.js`};
    const unreachable = await refusal(registry.deploy(gone));
    expect(unreachable.code).toBe('unreachable');
    expect(unreachable.message).toContain('/missing.js');
    const lying = {...app(modules, 'orders', '2.0.1'), integrity: 'sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'};
    expect((await refusal(registry.deploy(lying))).code).toBe('integrity_mismatch');
    const state = await registry.state();
    expect(state.revision).toBe(1);
    expect(Object.keys(state.apps['orders']!.versions)).toEqual(['1.0.0']);
  });

  it('fills in the integrity of a module deployed without one', async () => {
    const registry = registryOn();
    const {integrity, ...record} = app(modules, 'orders', '1.0.0');
    await registry.deploy(record);
    expect((await registry.state()).apps['orders']!.versions['1.0.0']!.integrity).toBe(integrity);
  });

  it('refuses an invalid record with the field named', async () => {
    const error = await refusal(registryOn().deploy({name: 'Orders!', version: 'one', module: 'x'}));
    expect(error.code).toBe('invalid');
    for (const field of ['name:', 'version:', 'module:', 'tag:']) expect(error.message).toContain(field);
  });
});

describe('contracts between apps', () => {
  it('refuses a version that stops publishing what another deployed app consumes, naming both', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'form', '1.0.0', {publishes: ['order.place']}));
    await registry.deploy(app(modules, 'tracker', '1.0.0', {consumes: ['order.place']}));
    const error = await refusal(registry.deploy(app(modules, 'form', '2.0.0', {publishes: ['order.submit']})));
    expect(error.code).toBe('breaking_contract');
    expect(error.message).toContain('tracker@1.0.0 consumes "order.place"');
    expect(error.message).toContain('form@1.0.0');
    expect((await registry.state()).apps['form']!.stable).toBe('1.0.0');
    // Patterns count as publishing; types only the server publishes are not the registry's concern.
    await registry.deploy(app(modules, 'form', '2.1.0', {publishes: ['order.*']}));
    await registry.deploy(app(modules, 'feed', '1.0.0', {consumes: ['payment.failed']}));
  });
});

describe('shared modules', () => {
  it('refuses an app whose shared ranges no registered module satisfies, and resolves one that fits', async () => {
    const registry = registryOn();
    await registry.deploy({kind: 'shared', name: 'lit', version: '3.3.1', module: app(modules, 'lit', '3.3.1').module});
    const error = await refusal(registry.deploy(app(modules, 'orders', '1.0.0', {requires: {lit: '^4.0.0'}})));
    expect(error.code).toBe('shared_unsatisfiable');
    expect(error.message).toContain('lit');
    await registry.deploy(app(modules, 'orders', '1.0.1', {requires: {lit: '^3.1.0'}}));
    const page = await registry.compose({id: 'v'});
    expect(page.importMap.imports['lit']).toBe(app(modules, 'lit', '3.3.1').module);
    expect(page.importMap.integrity[page.importMap.imports['lit']!]).toMatch(/^sha384-/);
    expect(page.importMap.integrity[page.composition.apps[0]!.module]).toBe(page.composition.apps[0]!.integrity);
  });
});

describe('canary, promote and rollback', () => {
  it('gives a share of visitors the canary, each visitor always the same version', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    await registry.deploy(app(modules, 'orders', '2.0.0'), {canary: {percent: 50}});
    const seen = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const page = await registry.compose({id: `visitor-${i}`});
      seen.set(`visitor-${i}`, page.composition.apps[0]!.version);
    }
    const canary = [...seen.values()].filter((v) => v === '2.0.0').length;
    expect(canary).toBeGreaterThan(60);
    expect(canary).toBeLessThan(140);
    for (const [id, version] of seen) expect((await registry.compose({id})).composition.apps[0]!.version).toBe(version);
    const one = (await registry.compose({id: [...seen].find(([, v]) => v === '2.0.0')![0]})).composition.apps[0]!;
    expect(one.channel).toBe('canary');
  });

  it('raising the share only adds visitors', () => {
    const ids = Array.from({length: 300}, (_, i) => `v${i}`);
    const at = (percent: number) => new Set(ids.filter((id) => inCanary('orders', {version: '2.0.0', percent}, {id})));
    const ten = at(10);
    const fifty = at(50);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
  });

  it('puts a cohort (header or cookie) in the canary whatever the share', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    await registry.deploy(app(modules, 'orders', '2.0.0'), {canary: {percent: 0, cohort: {header: 'X-Cohort', value: 'beta'}}});
    expect((await registry.compose({id: 'a'})).composition.apps[0]!.version).toBe('1.0.0');
    expect((await registry.compose({id: 'a', headers: {'x-cohort': 'beta'}})).composition.apps[0]!.version).toBe('2.0.0');
    await registry.canary('orders', {version: '2.0.0', percent: 0, cohort: {cookie: 'team', value: 'qa'}});
    expect((await registry.compose({id: 'a', cookies: {team: 'qa'}})).composition.apps[0]!.version).toBe('2.0.0');
  });

  it('promotes a canary in one call and rolls back to the version before', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    await registry.deploy(app(modules, 'orders', '2.0.0'), {canary: {percent: 10}});
    await registry.promote('orders');
    let state = await registry.state();
    expect(state.apps['orders']!.stable).toBe('2.0.0');
    expect(state.apps['orders']!.canary).toBeNull();
    await registry.rollback('orders');
    state = await registry.state();
    expect(state.apps['orders']!.stable).toBe('1.0.0');
    expect((await refusal(registry.rollback('orders'))).message).toContain('nothing to roll back to');
    await registry.rollback('orders', {to: '2.0.0'});
    expect((await registry.state()).apps['orders']!.stable).toBe('2.0.0');
  });

  it('a rollback during a canary ends the canary', async () => {
    const registry = registryOn();
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    await registry.deploy(app(modules, 'orders', '2.0.0'), {canary: {percent: 100}});
    expect((await registry.compose({id: 'x'})).composition.apps[0]!.version).toBe('2.0.0');
    const change = await registry.rollback('orders');
    expect([change.version, change.from]).toEqual(['1.0.0', '2.0.0']);
    expect((await registry.compose({id: 'x'})).composition.apps[0]!.version).toBe('1.0.0');
  });

  it('tells listeners of each committed change, not of refused ones', async () => {
    const registry = new DeployRegistry({store: new MemoryRegistryStore()});
    const heard: string[] = [];
    registry.onChange((c) => heard.push(`${c.action} ${c.name}@${c.version}`));
    await registry.deploy(app(modules, 'orders', '1.0.0'));
    await refusal(registry.promote('orders'));
    expect(heard).toEqual(['deploy orders@1.0.0']);
  });
});

describe('seeding from a build', () => {
  const seedOf = (build: string, records: unknown[]) => ({build, shell: {module: '/assets/index.js', requires: {}}, records: records as never});

  it('deploys a build once, then on a rebuild only what the rebuild changed', async () => {
    const registry = registryOn();
    const orders = app(modules, 'orders', '0.1.0+aaaa');
    const stock = app(modules, 'stock', '0.1.0+bbbb');
    expect((await registry.seed(seedOf('b1', [orders, stock]))).changes.map((c) => c.name)).toEqual(['orders', 'stock']);
    expect((await registry.seed(seedOf('b1', [orders, stock]))).changes).toEqual([]);
    // A deploy from the CLI after the build…
    await registry.deploy(app(modules, 'stock', '2.0.0'));
    // …survives a rebuild that did not change stock; the rebuilt orders is deployed.
    const rebuilt = app(modules, 'orders', '0.1.0+cccc');
    const {changes} = await registry.seed(seedOf('b2', [rebuilt, stock]));
    expect(changes.map((c) => `${c.name}@${c.version}`)).toEqual(['orders@0.1.0+cccc']);
    const state = await registry.state();
    expect([state.apps['orders']!.stable, state.apps['stock']!.stable]).toEqual(['0.1.0+cccc', '2.0.0']);
    expect(state.shell?.module).toBe('/assets/index.js');
  });
});

describe('shared module names', () => {
  it('are npm package names or their entry points (what a bare import names), nothing else', () => {
    const record = (name: string) => deployRecordSchema.safeParse({kind: 'shared', name, version: '19.3.1', module: `/assets/shared/x.js`}).success;
    expect(['react', 'react-dom/client', 'react/jsx-runtime', '@microsoft/signalr', '@scope/pkg/sub/path'].map(record)).toEqual([true, true, true, true, true]);
    expect(['../etc', 'react//client', '/react', 'React', 'react/'].map(record)).toEqual([false, false, false, false, false]);
  });
});
