import {resolve} from 'node:path';
import {createServer, type ViteDevServer} from 'vite';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {devOverrideConfig, sharedShim} from '../federation/dev-override';

let server: ViteDevServer;
let base: string;
beforeAll(async () => {
  server = await createServer({...devOverrideConfig({dir: resolve('apps/order-tracker'), port: 0, origins: ['https://staging.shop.example']}), logLevel: 'silent'});
  await server.listen();
  base = `http://127.0.0.1:${(server.httpServer!.address() as {port: number}).port}`;
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string, origin?: string) => fetch(`${base}${path}`, origin === undefined ? {} : {headers: {origin}});

describe('the dev server for overrides (npm run dev:app)', () => {
  it('leaves the shared packages to the page: their imports go to re-exporting modules, never to a copy of their own', async () => {
    const body = await (await get('/src/order-tracker.ts')).text();
    expect(body).toContain(`from "${base}/@switchboard-shared/lit.js"`);
    expect(body).toContain(`from "${base}/@switchboard-shared/@switchboard/lit.js"`);
    expect(body).toContain(`from "${base}/@switchboard-shared/@switchboard/signalr.js"`);
    expect(body).not.toMatch(/node_modules|\/packages\/lit\//);
    // Not shared: served from source.
    expect(body).toMatch(/from "\/@fs\/[^"]*packages\/shop-contracts\/src\/index\.ts"/);
  });

  it('answers a shared package with the same bare import, for the page\'s import map, and nothing else', async () => {
    const zod = await get('/@switchboard-shared/zod.js', 'http://localhost:8080');
    expect(zod.status).toBe(200);
    expect(zod.headers.get('content-type')).toContain('text/javascript');
    expect(zod.headers.get('access-control-allow-origin')).toBe('*');
    expect(await zod.text()).toBe(sharedShim('zod'));
    expect(sharedShim('zod')).toBe('export * from "zod";\nexport {default} from "zod";\n');
    expect(sharedShim('lit')).toBe('export * from "lit";\n');
    const other = await get('/@switchboard-shared/node:fs.js');
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('node:fs is not a shared package');
  });

  it("puts Vite's client into the app's entry, on its first line", async () => {
    const body = await (await get('/src/index.ts')).text();
    expect(body.split('\n')[0]).toMatch(/^import ['"]\/@vite\/client['"];/);
  });

  it('lets pages on this machine and the named origins load it, and no others', async () => {
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:41234', 'https://staging.shop.example']) {
      expect((await get('/src/index.ts', origin)).headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'http://127.0.0.1.evil.example']) {
      expect((await get('/src/index.ts', origin)).headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('a React app on the dev server', () => {
  it('compiles JSX to react/jsx-runtime, which the page shares, not to the development runtime it lacks', async () => {
    const react = await createServer({...devOverrideConfig({dir: resolve('apps/order-lookup'), port: 0}), logLevel: 'silent'});
    try {
      await react.listen();
      const at = `http://127.0.0.1:${(react.httpServer!.address() as {port: number}).port}`;
      const body = await (await fetch(`${at}/src/order-lookup.tsx`)).text();
      expect(body).toContain(`from "${at}/@switchboard-shared/react/jsx-runtime.js"`);
      expect(body).not.toContain('jsx-dev-runtime');
    } finally {
      await react.close();
    }
  });
});
