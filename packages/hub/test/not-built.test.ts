import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {precompress} from '../src/index.js';
import {startServer} from './helpers.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-not-built-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
  vi.restoreAllMocks();
});

describe('before anything is built', () => {
  it('precompress of a missing folder compresses nothing and warns instead of throwing ENOENT', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const missing = join(tempDir(), 'dist');
    await expect(precompress(missing)).resolves.toEqual([]);
    expect(String(warn.mock.calls[0]?.[0])).toContain(`${missing} is not a folder`);
  });

  it('a page request says what to do in words, API requests keep their JSON 404, and the folder is served once built', async () => {
    const dist = join(tempDir(), 'dist');
    const {server, url} = await startServer({staticDir: dist, notBuilt: 'Nothing is built yet: run "npm run build".'});
    try {
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await page.text()).toBe('Nothing is built yet: run "npm run build".\n');
      const api = await fetch(`${url}/api/nothing-here`);
      expect(await api.json()).toEqual({error: 'not found'});

      mkdirSync(dist);
      writeFileSync(join(dist, 'index.html'), '<!doctype html><title>built</title>');
      const built = await fetch(`${url}/index.html`);
      expect(built.status).toBe(200);
      expect(await built.text()).toContain('<title>built</title>');
    } finally {
      await server.close();
    }
  });

  it('says it with a default sentence naming the folder when the server gives none', async () => {
    const dist = join(tempDir(), 'dist');
    const {server, url} = await startServer({staticDir: dist});
    try {
      expect(await (await fetch(`${url}/`)).text()).toContain(`Nothing to serve yet: ${dist} does not exist`);
    } finally {
      await server.close();
    }
  });
});
