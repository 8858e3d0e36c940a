import {connect} from 'node:net';
import {Writable} from 'node:stream';
import {setTimeout as sleep} from 'node:timers/promises';
import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer, SwitchboardServerOptions} from '../src/index.js';
import {startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server whose log lines (parsed) land in `lines`. */
async function setup(options: Partial<SwitchboardServerOptions> = {}): Promise<{url: string; port: number; lines: Record<string, unknown>[]}> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let url: string;
  ({server, url} = await startServer({logger: pino({level: 'info'}, sink), ...options}));
  return {url, port: server.port, lines};
}

/** Sends `head` (and `body`, if any) on a raw socket; resolves with what the server wrote before it closed. */
function raw(port: number, head: string, body = '', abortAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (chunk) => (got += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
    socket.write(head + body);
    if (abortAfterMs !== undefined) setTimeout(() => socket.destroy(), abortAfterMs);
  });
}

const faultLines = (lines: Record<string, unknown>[]) => lines.filter((l) => String(l['msg']).startsWith('client fault'));
const errorLines = (lines: Record<string, unknown>[]) => lines.filter((l) => Number(l['level']) >= 50);

describe('client faults', () => {
  it('malformed percent-encoding in a path is a 400 and one quiet log line, no stack', async () => {
    const {url, lines} = await setup();
    const res = await fetch(`${url}/api/topics/%E0%A4%A/events`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as {error: string}).error).toMatch(/malformed percent-encoding/);
    expect(errorLines(lines)).toEqual([]);
    expect(faultLines(lines)).toHaveLength(1);
    expect(faultLines(lines)[0]).not.toHaveProperty('err');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('an aborted POST body logs one quiet line, no stack', async () => {
    const {port, lines} = await setup();
    await raw(port, 'POST /api/topics/t1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', '{"id":', 100);
    await expect.poll(() => faultLines(lines).length).toBe(1);
    expect(errorLines(lines)).toEqual([]);
    expect(faultLines(lines)[0]).not.toHaveProperty('err');
  });

  it('client faults are logged at most 10 a minute; the next line counts those left out', async () => {
    const {url, lines} = await setup();
    for (let i = 0; i < 25; i++) expect((await fetch(`${url}/api/topics/%E0%A4%A/events`)).status).toBe(400);
    expect(faultLines(lines)).toHaveLength(10);
    expect(errorLines(lines)).toEqual([]);
  });

  it('a body sent too slowly is cut with 408 at the body timeout', async () => {
    const {port, url} = await setup({bodyTimeoutMs: 300});
    const answer = await raw(port, 'POST /api/topics/t1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', '{"id":');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    // A request that arrives in time is served as before.
    await sleep(10);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
