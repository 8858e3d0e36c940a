import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {precompress} from '../../src/index.js';
import {bystander, startVictim, type Victim} from './victim.js';

/**
 * Attack (or just a rebuild): a static file listed when the server started is gone when it is
 * requested. Reading it failed after the status line was written, on a stream nobody listened to
 * for errors, and the process ended with every hub connection.
 */
let victim: Victim | undefined;
let dir: string | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await victim?.stop();
  victim = undefined;
  if (dir !== undefined) rmSync(dir, {recursive: true, force: true});
  dir = undefined;
});

describe('hostile: a static file removed after the server listed it', () => {
  it.each([
    ['plain', {}],
    ['brotli', {'accept-encoding': 'br'}],
  ])('answers 404 (%s variant), never cached for good; the process lives and hub connections survive', async (_name, headers: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'sb-vanish-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets/app-Zx81.js'), `export const words = ${JSON.stringify(Array.from({length: 300}, (_, i) => `w${i % 7}`))};\n`);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    await precompress(dir);
    victim = await startVictim({staticDir: dir});
    const other = await bystander(victim.url);
    cleanups.push(other.stop);
    const asset = `${victim.url}/assets/app-Zx81.js`;
    expect((await fetch(asset, {headers})).status).toBe(200);

    for (const variant of ['', '.br', '.gz']) rmSync(join(dir, `assets/app-Zx81.js${variant}`), {force: true});
    const gone = await fetch(asset, {headers});
    expect(gone.status).toBe(404);
    expect(gone.headers.get('cache-control')).not.toMatch(/immutable/);
    expect(gone.headers.get('etag')).toBeNull();

    expect(victim.alive).toBe(true);
    expect((await fetch(`${victim.url}/index.html`)).status).toBe(200);
    await other.pushed();
  });
});
