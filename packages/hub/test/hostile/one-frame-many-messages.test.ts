import {afterEach, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import {MessageType, messagePackHubProtocol} from '../../src/protocol/index.js';
import {bystander, startVictim, type Victim} from './victim.js';

/**
 * Attack: one transport message packed with hundreds of thousands of tiny hub messages (a
 * MessagePack Ping is 3 bytes with its length prefix), under the 1 MB transport message limit.
 * It once ended the whole process (a stack overflow spreading the parsed messages into an array).
 */
const RS = '\u001e';
const PINGS = 340_000;
const pings = Buffer.alloc(PINGS * 3);
for (let i = 0; i < PINGS; i++) pings.set([0x02, 0x91, MessageType.Ping], i * 3);

let victim: Victim | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await victim?.stop();
  victim = undefined;
});

describe('hostile: one transport message holding 340,000 hub messages', () => {
  it('over WebSockets closes that connection with the reason; the process lives and another client is still served', async () => {
    victim = await startVictim();
    const other = await bystander(victim.url);
    cleanups.push(other.stop);
    const ws = new WebSocket(`${victim.url.replace(/^http/, 'ws')}/hubs/events`);
    cleanups.push(() => ws.terminate());
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(`{"protocol":"messagepack","version":1}${RS}`);
    await expect.poll(() => frames.length).toBe(1);
    expect(pings.byteLength).toBeLessThan(1024 * 1024);
    ws.send(pings);

    expect(await closed).toBe(1000);
    const close = frames.slice(1).flatMap((f) => messagePackHubProtocol.parseMessages(new Uint8Array(f))).find((m) => m.type === MessageType.Close);
    expect(close).toEqual({type: MessageType.Close, error: expect.stringMatching(/more than 10000 hub messages.*maximumMessagesPerTransportMessage/)});
    expect(victim.alive).toBe(true);
    expect((await fetch(`${victim.url}/healthz`)).status).toBe(200);
    await other.pushed();
  });

  it('over long polling refuses it cleanly (no 500): the connection closes with the reason; the process lives', async () => {
    victim = await startVictim();
    const other = await bystander(victim.url);
    cleanups.push(other.stop);
    const negotiated = (await (await fetch(`${victim.url}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST'})).json()) as {connectionToken: string};
    const hubUrl = `${victim.url}/hubs/events?id=${encodeURIComponent(negotiated.connectionToken)}`;
    expect((await fetch(hubUrl)).status).toBe(200);
    expect((await fetch(hubUrl, {method: 'POST', body: `{"protocol":"messagepack","version":1}${RS}`})).status).toBe(200);
    const handshake = await fetch(hubUrl);
    expect(await handshake.text()).toBe(`{}${RS}`);

    const sent = await fetch(hubUrl, {method: 'POST', body: pings});
    expect(sent.status).toBe(200);
    const poll = new Uint8Array(await (await fetch(hubUrl)).arrayBuffer());
    expect(messagePackHubProtocol.parseMessages(poll)).toContainEqual({type: MessageType.Close, error: expect.stringMatching(/more than 10000 hub messages/)});
    expect(victim.alive).toBe(true);
    await other.pushed();
  });

  it('a frame of exactly the limit is read whole and the connection stays open', async () => {
    victim = await startVictim({hub: {maximumMessagesPerTransportMessage: 1000}});
    const ws = new WebSocket(`${victim.url.replace(/^http/, 'ws')}/hubs/events`);
    cleanups.push(() => ws.terminate());
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(`{"protocol":"messagepack","version":1}${RS}`);
    await expect.poll(() => frames.length).toBe(1);
    // 999 pings and an invocation last: the answer proves every message before it was read.
    const subscribe = messagePackHubProtocol.writeMessage({type: MessageType.Invocation, invocationId: '1', target: 'subscribe', arguments: ['orders', null]});
    ws.send(Buffer.concat([pings.subarray(0, 999 * 3), subscribe]));
    await expect.poll(() => frames.length).toBe(2);
    expect(messagePackHubProtocol.parseMessages(new Uint8Array(frames[1]!))).toEqual([
      {type: MessageType.Completion, invocationId: '1', result: {topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false}},
    ]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });
});
