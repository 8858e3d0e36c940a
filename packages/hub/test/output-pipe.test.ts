import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {Flusher, type PipeWriter} from '../src/transports/output-pipe.js';
import {openEventStream, RawSocket} from './raw-socket.js';
import {startServer} from './helpers.js';

const RS = '\u001e';
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A writer that records, in `log`, each flush with what it had queued. */
function writer(name: string, log: string[]): PipeWriter & {queue: string[]} {
  const queue: string[] = [];
  return {
    queue,
    flushQueued: () => void log.push(`${name}:${queue.splice(0).join(',')}`),
  };
}

describe('Flusher', () => {
  it('under light load, writes every queue in the turn that filled it (before the next turn starts)', async () => {
    const flusher = new Flusher(1000, 1, 1000);
    const log: string[] = [];
    const a = writer('a', log);
    const b = writer('b', log);
    a.queue.push('1');
    flusher.schedule(a);
    b.queue.push('1');
    flusher.schedule(b);
    a.queue.push('2');
    let nextTurn = false;
    setImmediate(() => (nextTurn = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(nextTurn).toBe(false);
    expect(log).toEqual(['a:1,2', 'b:1']);
    expect(flusher.waiting).toBe(0);
  });

  it('write-through: an idle flusher lets a turn write at once, once per writer, until the idle budget is spent', async () => {
    const flusher = new Flusher(1000, 1, 1000);
    // Idle: the first sends of the turn may write now, each writer once.
    const a = flusher.writeThrough(0);
    expect(a).toBeGreaterThan(0);
    const b = flusher.writeThrough(0);
    expect(b).toBe(a);
    // The same writer again in this turn: it must queue (its sends coalesce in the end-of-turn flush).
    expect(flusher.writeThrough(a)).toBe(0);
    const log: string[] = [];
    const w = writer('a', log);
    w.queue.push('2', '3');
    flusher.schedule(w);
    // Something is queued now: nobody writes through any more this turn, order stays the flusher's.
    expect(flusher.writeThrough(0)).toBe(0);
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['a:2,3']);
    // Right after a pass the flusher is not idle: sends queue.
    expect(flusher.writeThrough(0)).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    // Idle again: a new turn, a new number, the same writer may write through again.
    const next = flusher.writeThrough(a);
    expect(next).toBeGreaterThan(a);
  });

  it('write-through stops when the idle budget is spent, and the rest goes out as a continuation', async () => {
    const flusher = new Flusher(1000, 1, 2);
    expect(flusher.writeThrough(0)).toBeGreaterThan(0);
    const until = performance.now() + 5;
    while (performance.now() < until);
    expect(flusher.writeThrough(0)).toBe(0);
    const log: string[] = [];
    const w = writer('a', log);
    w.queue.push('1');
    flusher.schedule(w);
    // Not in this turn's microtasks (the budget is spent): after the turn's other work.
    await Promise.resolve();
    expect(log).toEqual([]);
    await turn();
    expect(log).toEqual(['a:1']);
  });

  it('past its budget, yields to the turn and resumes round-robin; queues collect meanwhile', async () => {
    // A budget of 0 (idle or not) writes one queue per turn: the order of writes is the flusher's alone.
    const flusher = new Flusher(0, 1, 0);
    const log: string[] = [];
    const [a, b, c] = [writer('a', log), writer('b', log), writer('c', log)];
    for (const w of [a, b, c]) {
      w.queue.push('1');
      flusher.schedule(w);
    }
    await Promise.resolve();
    expect(log).toEqual(['a:1']);
    expect(flusher.waiting).toBe(2);
    // The next broadcast: b and c are still waiting (their queues grow), a goes to the back.
    for (const w of [a, b, c]) w.queue.push('2');
    flusher.schedule(a);
    await turn();
    expect(log).toEqual(['a:1', 'b:1,2']);
    await turn();
    await turn();
    expect(log).toEqual(['a:1', 'b:1,2', 'c:1,2', 'a:2']);
    expect(flusher.waiting).toBe(0);
  });

  it('after idleness, a pass gets the longer budget: a lone broadcast goes out in one go', async () => {
    const flusher = new Flusher(0, 1, 1000);
    const log: string[] = [];
    for (const w of [writer('a', log), writer('b', log), writer('c', log)]) {
      w.queue.push('1');
      flusher.schedule(w);
    }
    await Promise.resolve();
    expect(log).toEqual(['a:1', 'b:1', 'c:1']);
    expect(flusher.waiting).toBe(0);
  });

  it('after an expensive pass, spaces the next one so that queues collect; after a cheap one, does not', async () => {
    const flusher = new Flusher(1000, 500, 1000);
    const log: string[] = [];
    const a = writer('a', log);
    const cost = {ms: 0};
    const slow: PipeWriter = {
      flushQueued: () => {
        a.flushQueued();
        const until = performance.now() + cost.ms;
        while (performance.now() < until);
      },
    };
    // Cheap passes: each send is written in its own turn.
    a.queue.push('1');
    flusher.schedule(slow);
    await Promise.resolve();
    a.queue.push('2');
    flusher.schedule(slow);
    await Promise.resolve();
    expect(log).toEqual(['a:1', 'a:2']);
    // A pass that costs a fifth of the interval or more: the next waits, and its queue collects.
    cost.ms = 100;
    a.queue.push('3');
    flusher.schedule(slow);
    await Promise.resolve();
    expect(log).toEqual(['a:1', 'a:2', 'a:3']);
    cost.ms = 0;
    a.queue.push('4');
    flusher.schedule(slow);
    await turn();
    a.queue.push('5');
    expect(log).toEqual(['a:1', 'a:2', 'a:3']);
    await expect.poll(() => log.length).toBe(4);
    expect(log[3]).toBe('a:4,5');
  });
});

describe('WebSocket output pipes', () => {
  let server: SwitchboardServer | undefined;
  const sockets: RawSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await server?.close();
    server = undefined;
  });

  it('deliver every broadcast of a long burst to every socket, in order', async () => {
    let url: string;
    ({server, url} = await startServer());
    for (let i = 0; i < 50; i++) sockets.push(await RawSocket.handshaken(url));
    const total = 4000;
    // 200 broadcasts per turn to 50 sockets: far more than one turn's budget, so the flusher yields
    // between turns and queues collect across them.
    for (let sent = 0; sent < total; ) {
      for (let i = 0; i < 200; i++) server.hub.clients.all.send('event', sent++);
      await turn();
    }
    for (const socket of sockets) {
      const seen: unknown[] = [];
      while (seen.length < total) {
        for (const record of (await socket.next()).split(RS).filter(Boolean)) {
          const message = JSON.parse(record) as {type: number; arguments?: unknown[]};
          if (message.type === 1) seen.push(message.arguments![0]);
        }
      }
      expect(seen).toEqual(Array.from({length: total}, (_, i) => i));
    }
  });

  it('a close writes what is queued first: every message, then Close, then a normal close', async () => {
    let url: string;
    ({server, url} = await startServer());
    for (let i = 0; i < 3; i++) sockets.push(await RawSocket.handshaken(url));
    for (let i = 0; i < 500; i++) server.hub.clients.all.send('event', i);
    server.hub.close();
    for (const socket of sockets) {
      expect(await socket.closed).toBe(1000);
      const records = socket.frames.join('').split(RS).filter(Boolean).map((r) => JSON.parse(r) as {type: number; arguments?: unknown[]});
      expect(records.filter((r) => r.type === 1).map((r) => r.arguments![0])).toEqual(Array.from({length: 500}, (_, i) => i));
      expect(records.at(-1)!.type).toBe(7);
    }
  });

  it('over Server-Sent Events too: every broadcast of a long burst of large messages, in order', async () => {
    let url: string;
    ({server, url} = await startServer());
    const {stream, hubUrl} = await openEventStream(url);
    stream.setEncoding('utf8');
    const seen: number[] = [];
    let handshaken = false;
    let text = '';
    stream.on('data', (chunk: string) => {
      text += chunk;
      // Whole events only: each ends with a blank line; its data lines hold the records.
      let end: number;
      while ((end = text.indexOf('\r\n\r\n')) !== -1) {
        const data = text.slice(0, end).split('\r\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
        text = text.slice(end + 4);
        for (const record of data.split(RS).filter(Boolean)) {
          const message = JSON.parse(record) as {type?: number; arguments?: unknown[]};
          if (message.type === undefined) handshaken = true;
          if (message.type === 1) seen.push((message.arguments![0] as {seq: number}).seq);
        }
      }
    });
    expect((await fetch(hubUrl, {method: 'POST', body: `{"protocol":"json","version":1}${RS}`})).status).toBe(200);
    await expect.poll(() => handshaken).toBe(true);
    const total = 3000;
    const padding = 'x'.repeat(300);
    // 300 messages of ~330 bytes per turn: past the pipe's 64 KB, so some writes happen at once.
    for (let sent = 0; sent < total; ) {
      for (let i = 0; i < 300; i++) server.hub.clients.all.send('event', {seq: sent++, padding});
      await turn();
    }
    await expect.poll(() => seen.length, {timeout: 10_000}).toBe(total);
    expect(seen).toEqual(Array.from({length: total}, (_, i) => i));
    stream.destroy();
  });
});
