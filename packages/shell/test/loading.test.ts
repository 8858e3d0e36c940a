import {AppDeployed, type Composition, type CompositionApp} from '@switchboard/contracts';
import {describe, expect, it} from 'vitest';
import {CompositionError, decideDeploy, loadApp, loadComposition, retryUrl, toComposition, type LoadStep} from '@switchboard/shell';

const entry = {name: 'lookup', tag: 'shop-lookup', module: '/assets/apps/lookup.js', standalone: '/apps/lookup.js'};

/** A custom element registry that knows the tags a module "defines" when imported. */
function registryFor(defines: Record<string, string>) {
  const defined = new Set<string>();
  return {
    registry: {get: (tag: string) => (defined.has(tag) ? class {} : undefined)} as unknown as CustomElementRegistry,
    define: (url: string) => {
      const tag = defines[url.split('?')[0]!];
      if (tag !== undefined) defined.add(tag);
    },
  };
}

describe('loadApp', () => {
  it('retries a module that fails to fetch, with backoff and a fresh URL each time', async () => {
    const {registry, define} = registryFor({[entry.module]: entry.tag});
    const tried: string[] = [];
    const steps: LoadStep[] = [];
    const variant = await loadApp(entry, {
      registry,
      retry: {attempts: 3, delayMs: 1},
      onStep: (s) => steps.push(s),
      importer: async (url) => {
        tried.push(url);
        if (tried.length <= 2) throw new TypeError('Failed to fetch dynamically imported module');
        define(url);
      },
    });
    expect(variant).toBe('module');
    expect(tried).toEqual(['/assets/apps/lookup.js', '/assets/apps/lookup.js?sb-retry=2', '/assets/apps/lookup.js?sb-retry=3']);
    expect(steps.filter((s) => s.kind === 'failed').map((s) => (s as {retryInMs: number | null}).retryInMs)).toEqual([1, 2]);
  });

  it('falls back to the standalone variant, then gives up with the error', async () => {
    const {registry, define} = registryFor({[entry.standalone]: entry.tag});
    const tried: string[] = [];
    const fails = async (url: string) => {
      tried.push(url);
      throw new TypeError('offline');
    };
    expect(await loadApp(entry, {registry, retry: {attempts: 2, delayMs: 1}, importer: async (url) => (url.startsWith('/apps/') ? define(url) : fails(url))})).toBe('standalone');
    expect(tried).toEqual(['/assets/apps/lookup.js', '/assets/apps/lookup.js?sb-retry=2']);
    await expect(loadApp(entry, {registry: registryFor({}).registry, retry: {attempts: 2, delayMs: 1}, importer: fails})).rejects.toThrow('offline');
  });

  it('does not retry a module that ran and threw, and names a module that defines no element', async () => {
    let calls = 0;
    await expect(
      loadApp({...entry, standalone: undefined}, {registry: registryFor({}).registry, importer: async () => {
        calls++;
        throw new Error('boom');
      }}),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
    await expect(loadApp({...entry, standalone: undefined}, {registry: registryFor({}).registry, importer: async () => {}})).rejects.toThrow('the module defines no <shop-lookup>');
  });

  it('is abandoned by its signal', async () => {
    const abort = new AbortController();
    const loading = loadApp(entry, {registry: registryFor({}).registry, retry: {delayMs: 10_000}, signal: abort.signal, importer: async () => Promise.reject(new TypeError('x'))});
    abort.abort(new Error('left the route'));
    await expect(loading).rejects.toThrow('left the route');
  });

  it('retryUrl keeps the query it has', () => {
    expect(retryUrl('/a.js?v=1', 2)).toBe('/a.js?v=1&sb-retry=2');
    expect(retryUrl('/a.js', 1)).toBe('/a.js');
  });
});

describe('loadComposition', () => {
  const manifest = {apps: [{name: 'order-form', title: 'Order form', tag: 'shop-order-form', module: '/apps/order-form.js', publishes: ['order.place']}]};
  const answer = (status: number, body: unknown, etag?: string) =>
    new Response(JSON.stringify(body), {status, headers: etag === undefined ? {} : {etag}});

  it('reads /composition.json, else today\'s /manifest.json with version 0.0.0 and the ETag as revision', async () => {
    const asked: string[] = [];
    const loaded = await loadComposition({
      fetch: async (url) => {
        asked.push(String(url));
        return String(url) === '/composition.json' ? answer(404, {error: 'not found'}) : answer(200, manifest, 'W/"abc"');
      },
    });
    expect(asked).toEqual(['/composition.json', '/manifest.json']);
    expect(loaded.origin).toBe('manifest');
    expect(loaded.composition.revision).toBe('W/"abc"');
    expect(loaded.composition.apps[0]).toMatchObject({name: 'order-form', version: '0.0.0', publishes: ['order.place']});
  });

  it('prefers the inline element', async () => {
    const composition: Composition = {revision: 'r7', environment: 'production', overridesAllowed: false, apps: [{...manifest.apps[0]!, version: '1.2.0'} as CompositionApp]};
    const document = {getElementById: (id: string) => (id === 'switchboard-composition' ? {textContent: JSON.stringify(composition)} : null)} as unknown as Document;
    const loaded = await loadComposition({document, fetch: async () => Promise.reject(new Error('no network needed'))});
    expect(loaded).toEqual({composition, origin: 'inline'});
  });

  it('says what failed where when every source fails', async () => {
    const error = await loadComposition({fetch: async (url) => (String(url) === '/composition.json' ? answer(503, {}) : answer(200, {apps: 'nope'}))}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionError);
    expect((error as CompositionError).attempts).toEqual(['/composition.json: HTTP 503', '/manifest.json: "apps" must be an array']);
  });

  it('refuses an entry without a custom element tag', () => {
    expect(() => toComposition({apps: [{name: 'x', tag: 'nodash', module: '/x.js'}]}, 'static')).toThrow('apps.0.tag: a custom element tag needs a dash');
  });
});

describe('decideDeploy', () => {
  const apps = [{name: 'a', version: '1.0.0', title: 'A', tag: 'x-a', module: '/a.js', publishes: [], remountable: true}] as CompositionApp[];
  const notice = {name: 'a', version: '1.1.0', revision: 'r2', remountable: true, channel: 'stable' as const};
  it('swaps a remountable app shown on the page, notifies otherwise, ignores what is not this page\'s', () => {
    expect(decideDeploy(notice, apps, new Set(['a'])).kind).toBe('swap');
    expect(decideDeploy({...notice, remountable: false}, apps, new Set(['a'])).kind).toBe('notify');
    expect(decideDeploy(notice, apps, new Set()).kind).toBe('notify');
    expect(decideDeploy({...notice, version: '1.0.0'}, apps, new Set(['a'])).kind).toBe('ignore');
    expect(decideDeploy({...notice, name: 'b'}, apps, new Set(['a'])).kind).toBe('ignore');
    expect(decideDeploy({...notice, channel: 'canary'}, apps, new Set(['a'])).kind).toBe('ignore');
    // A developer's override runs on the page: a deploy neither swaps nor announces it.
    expect(decideDeploy(notice, [{...apps[0]!, override: true}], new Set(['a'])).kind).toBe('ignore');
    expect(AppDeployed.type).toBe('app.deployed');
  });
});
