import {Agent, request} from 'node:http';
import {appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {brotliDecompressSync, gunzipSync} from 'node:zlib';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {IMMUTABLE, precompress, REVALIDATE, type SwitchboardServer} from '../src/index.js';
import {startServer} from './helpers.js';

/** A raw GET: no automatic decompression, so the test sees what travels. */
function get(url: string, headers: Record<string, string> = {}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: Buffer}> {
  return new Promise((resolve, reject) => {
    request(url, {headers}, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}));
    })
      .on('error', reject)
      .end();
  });
}

const script = `export const words = ${JSON.stringify(Array.from({length: 400}, (_, i) => `word-${i % 37}`))};\n`;
const html = `<!doctype html><title>t</title>${'<p>hello</p>'.repeat(200)}`;
let dir: string;
let server: SwitchboardServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets/main-AbCd1234.js'), script);
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'manifest.json'), '{"apps":[]}');
  const written = await precompress(dir);
  // The tiny manifest is not worth compressing; the others are, and both variants are smaller.
  expect(written.map((w) => w.file).sort()).toEqual(['assets/main-AbCd1234.js', 'index.html']);
  for (const w of written) expect(w.brotli).toBeLessThan(w.bytes);
  ({server, url} = await startServer({staticDir: dir}));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, {recursive: true, force: true});
});

describe('static files served like a production web server', () => {
  it('sends the brotli variant to a client that accepts it, gzip to one that accepts only gzip, plain bytes otherwise', async () => {
    const br = await get(`${url}/assets/main-AbCd1234.js`, {'accept-encoding': 'gzip, br'});
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['vary']).toBe('Accept-Encoding');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    expect(br.body.length).toBeLessThan(script.length / 3);

    const gz = await get(`${url}/assets/main-AbCd1234.js`, {'accept-encoding': 'gzip'});
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);

    const plain = await get(`${url}/assets/main-AbCd1234.js`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(script);
  });

  it('caches content-hashed assets for good and makes HTML and the manifest revalidate', async () => {
    expect((await get(`${url}/assets/main-AbCd1234.js`)).headers['cache-control']).toBe(IMMUTABLE);
    expect((await get(`${url}/`, {'accept-encoding': 'br'})).headers['cache-control']).toBe(REVALIDATE);
    expect((await get(`${url}/index.html`)).headers['cache-control']).toBe(REVALIDATE);
    expect((await get(`${url}/manifest.json`)).headers['cache-control']).toBe(REVALIDATE);
  });

  it('answers a revalidation with the same ETag by 304 Not Modified, without a body', async () => {
    const first = await get(`${url}/manifest.json`);
    const etag = first.headers['etag'] as string;
    expect(etag).toBeTruthy();
    const again = await get(`${url}/manifest.json`, {'if-none-match': etag});
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await get(`${url}/manifest.json`, {'if-none-match': 'W/"other"'})).status).toBe(200);
  });

  it('sends no more than the announced length when the file grows while it is streamed, so the next response on the connection is intact', async () => {
    const big = Buffer.alloc(8 << 20, 'a');
    writeFileSync(join(dir, 'growing.bin'), big);
    const agent = new Agent({keepAlive: true, maxSockets: 1});
    const body = await new Promise<Buffer>((resolve, reject) => {
      request(`${url}/growing.bin`, {agent}, (res) => {
        // Read nothing for a while: the server's read of the file stalls on the full socket.
        res.pause();
        setTimeout(() => {
          appendFileSync(join(dir, 'growing.bin'), Buffer.alloc(1 << 20, 'b'));
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.resume();
        }, 200);
      })
        .on('error', reject)
        .end();
    });
    expect(body.equals(big)).toBe(true);
    // The same keep-alive connection answers the next request cleanly.
    const next = await new Promise<number>((resolve, reject) => {
      request(`${url}/manifest.json`, {agent}, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    agent.destroy();
    expect(next).toBe(200);
  });

  it('closes the connection, rather than leave the client waiting, when the file shrinks while it is streamed', async () => {
    writeFileSync(join(dir, 'shrinking.bin'), Buffer.alloc(8 << 20, 'a'));
    const outcome = await new Promise<string>((resolve) => {
      request(`${url}/shrinking.bin`, {agent: false}, (res) => {
        res.pause();
        setTimeout(() => {
          writeFileSync(join(dir, 'shrinking.bin'), 'short');
          res.on('data', () => {});
          res.on('end', () => resolve(res.complete ? 'complete' : 'cut'));
          res.on('error', () => resolve('cut'));
          res.resume();
        }, 200);
      })
        .on('error', () => resolve('cut'))
        .end();
    });
    expect(outcome).toBe('cut');
  });

  it('serves a file changed under the running server whole, with its new length and ETag', async () => {
    const before = await get(`${url}/manifest.json`);
    const changed = JSON.stringify({apps: [{name: 'orders', module: '/deploys/orders/2.0.0-abc/orders.js'}]});
    writeFileSync(join(dir, 'manifest.json'), changed);
    const after = await get(`${url}/manifest.json`);
    expect(after.body.toString()).toBe(changed);
    expect(after.headers['content-length']).toBe(String(Buffer.byteLength(changed)));
    expect(after.headers['etag']).not.toBe(before.headers['etag']);
    // A file added after start is served; bookkeeping dotfiles are not.
    writeFileSync(join(dir, 'assets/late-Zz99.js'), 'export {};');
    expect((await get(`${url}/assets/late-Zz99.js`)).status).toBe(200);
    writeFileSync(join(dir, '.generations.json'), '[]');
    expect((await get(`${url}/.generations.json`)).status).toBe(404);
    expect((await get(`${url}/%2egenerations.json`)).status).toBe(404);
  });
});
