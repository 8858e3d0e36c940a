import type {Socket} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import {bystander, startVictim, type Victim} from './victim.js';

/**
 * Attack: hold the connection's invocation slot with a replay it does not read, then stream
 * publish invocations. They used to queue without bound (RSS 229 MB → 813 MB for 500 MB sent, then
 * out of heap). Now the hub stops reading the connection while its receive queue is full, and TCP
 * stops the sender.
 */
const RS = '\u001e';
let victim: Victim | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await victim?.stop();
  victim = undefined;
});

/** 32 publish invocations of ~30 KB each in one frame (~1 MB), as in the report. */
function publishFrame(n: number): string {
  let frame = '';
  for (let i = 0; i < 32; i++) {
    const envelope = {id: `flood-${n}-${i}`, type: 'blob.put', version: 1, time: new Date().toISOString(), source: 'attacker', correlationId: 'c', data: {blob: 'y'.repeat(30_000)}};
    frame += `${JSON.stringify({type: 1, target: 'publish', arguments: ['blobs', envelope]})}${RS}`;
  }
  return frame;
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe('hostile: a client that holds its invocation slot and streams invocations', () => {
  it('is no longer read (TCP stops it), the server stays within bounded memory, and another client is still served', async () => {
    victim = await startVictim({topics: {blobs: {unknownTypes: 'accept'}}, seed: {topic: 'blobs', count: 2500, bytes: 6000}});
    const url = victim.url;
    const other = await bystander(url);
    cleanups.push(other.stop);
    const first = ((await (await fetch(`${url}/api/topics/blobs/events?limit=1`)).json()) as {events: Array<{offset: string}>}).events[0]!.offset;
    const fromStart = `${first.split(':')[0]}:0`;
    const before = await victim.memory();

    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hubs/events`);
    cleanups.push(() => ws.terminate());
    ws.on('error', () => {});
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(data.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(`{"protocol":"json","version":1}${RS}`);
    await expect.poll(() => frames.length).toBeGreaterThan(0);
    // Stop reading: the 15 MB replay (more than socket buffers hold) waits for this client and holds its only invocation slot.
    (ws as unknown as {_socket: Socket})._socket.pause();
    ws.send(`{"type":1,"invocationId":"r","target":"subscribe","arguments":["blobs","${fromStart}"]}${RS}`);
    const flood = 60;
    for (let n = 0; n < flood; n++) ws.send(publishFrame(n));
    const sent = flood * publishFrame(0).length;

    await expect.poll(() => gauge(url, 'switchboard_receive_paused_connections'), {timeout: 15_000}).toBe(1);
    // Most of the 60 MB still waits at the sender: the server stopped reading it.
    await expect.poll(() => ws.bufferedAmount, {timeout: 15_000}).toBeGreaterThan(sent / 2);
    const after = await victim.memory();
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(96 * 1024 * 1024);
    expect(victim.alive).toBe(true);
    await other.pushed();
    expect(await gauge(url, 'switchboard_receive_queue_overflows_total')).toBe(0);
  }, 60_000);
});
