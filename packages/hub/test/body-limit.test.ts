import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {orderPlaced, startChildServer} from './helpers.js';

/** The server in a process of its own: in the test's process, the event loop hides the TCP race. One for the file: each test also shows it unharmed by the ones before. */
let child: Awaited<ReturnType<typeof startChildServer>>;
let url: string;
beforeAll(async () => {
  child = await startChildServer();
  url = child.url;
});
afterAll(async () => child?.stop());

/** A body of `bytes` bytes sent chunked (no Content-Length), in 16 KB pieces. */
function chunked(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const n = Math.min(left, 16 * 1024);
      left -= n;
      controller.enqueue(new Uint8Array(n).fill(0x20));
    },
  });
}

describe('an ingest body over the limit (64 KB) gets a readable 413 from fetch', () => {
  it('with a Content-Length over the limit', async () => {
    const body = JSON.stringify(orderPlaced({source: 'x'.repeat(8 * 1024 * 1024)}));
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${url}/api/topics/orders/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body});
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({error: 'body too large: the limit is 65536 bytes'});
    }
  });

  it('with a chunked body that passes the limit on the way', async () => {
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${url}/api/topics/orders/events`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: chunked(8 * 1024 * 1024),
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as {error: string}).error).toMatch(/limit is 65536 bytes/);
    }
    // The server is unharmed.
    const ok = await fetch(`${url}/api/topics/orders/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(orderPlaced())});
    expect(ok.status).toBe(202);
  });

  it('a hub POST (SSE / long polling send) over the transport limit (1 MB) gets a readable 413 too', async () => {
    for (let i = 0; i < 5; i++) {
      const {connectionToken} = (await (await fetch(`${url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as {connectionToken: string};
      const hubUrl = `${url}/hubs/events?id=${encodeURIComponent(connectionToken)}`;
      expect((await fetch(hubUrl)).status).toBe(200);
      const response = await fetch(hubUrl, {method: 'POST', body: 'x'.repeat(8 * 1024 * 1024)});
      expect(response.status).toBe(413);
      expect(await response.text()).toMatch(/limit is 1048576 bytes \(option maxTransportMessageSize\)/);
    }
  });
});
