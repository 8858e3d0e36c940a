import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {HubError, uploadStream, type SwitchboardServer} from '../src/index.js';
import {client, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

async function connect(options: Parameters<typeof startServer>[0] = {}, setup?: (s: SwitchboardServer) => void): Promise<{url: string; connect: () => Promise<signalR.HubConnection>}> {
  let url: string;
  ({server, url} = await startServer(options));
  setup?.(server);
  return {
    url,
    connect: async () => {
      const c = client(url);
      opened.push(c);
      await c.start();
      return c;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hub features', () => {
  it('runs filters around invocations, outermost first, and lets a filter refuse', async () => {
    const trail: string[] = [];
    const {connect: open} = await connect({}, (s) => {
      s.hub
        .use(async ({context}, next) => {
          trail.push(`outer>${context.method}`);
          const result = await next();
          trail.push('outer<');
          return result;
        })
        .use(async ({args, context}, next) => {
          if (context.method === 'add' && (args['a'] as number) < 0) throw new HubError('Negative numbers are not allowed.');
          trail.push('inner');
          return next();
        })
        .method('add', {params: {a: z.number(), b: z.number()}, handler: ({a, b}) => a + b});
    });
    const c = await open();
    expect(await c.invoke('add', 1, 2)).toBe(3);
    await expect(c.invoke('add', -1, 2)).rejects.toThrow('Negative numbers are not allowed.');
    expect(trail).toEqual(['outer>add', 'inner', 'outer<', 'outer>add']);
  });

  it('runs one invocation per client at a time by default, and more when allowed', async () => {
    const measure = async (parallel: number): Promise<number> => {
      let running = 0;
      let peak = 0;
      const {connect: open} = await connect({hub: {maximumParallelInvocationsPerClient: parallel}}, (s) =>
        s.hub.method('slow', {
          params: {},
          handler: async () => {
            peak = Math.max(peak, ++running);
            await sleep(30);
            running--;
          },
        }),
      );
      const c = await open();
      await Promise.all([1, 2, 3, 4].map(() => c.invoke('slow')));
      await c.stop();
      await server!.close();
      return peak;
    };
    expect(await measure(1)).toBe(1);
    expect(await measure(3)).toBe(3);
  });

  it('stops reading a connection while an upload stream buffer is full, and loses no item', async () => {
    const seen: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const {connect: open} = await connect({hub: {streamBufferCapacity: 2, maximumParallelInvocationsPerClient: 2}}, (s) =>
      s.hub
        .method('collect', {
          params: {items: uploadStream(z.number())},
          handler: async ({items}) => {
            await gate;
            for await (const n of items) seen.push(n);
            return seen.length;
          },
        })
        .method('ping', {params: {}, handler: () => 'pong'}),
    );
    const c = await open();
    const items = new signalR.Subject<number>();
    const total = c.invoke<number>('collect', items);
    for (let i = 0; i < 6; i++) await items.next(i);
    // The client queues stream items behind a promise chain: let them reach the server first.
    await sleep(100);
    // The connection is paused behind the full buffer: a later invocation waits too.
    let pong = false;
    const ping = c.invoke('ping').then(() => (pong = true));
    await sleep(100);
    expect(pong).toBe(false);
    release();
    items.complete();
    expect(await total).toBe(6);
    await ping;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('fails an upload whose item breaks its schema, naming the stream', async () => {
    const {connect: open} = await connect({}, (s) =>
      s.hub.method('sum', {
        params: {numbers: uploadStream(z.number())},
        handler: async ({numbers}) => {
          let t = 0;
          for await (const n of numbers) t += n;
          return t;
        },
      }),
    );
    const c = await open();
    const numbers = new signalR.Subject<unknown>();
    const total = c.invoke('sum', numbers);
    await numbers.next(1);
    await numbers.next('two');
    numbers.complete();
    await expect(total).rejects.toThrow("Invalid item of stream 'numbers'");
  });

  it('addresses all-but, several connections, several groups once each, and a group but some', async () => {
    const {connect: open} = await connect({}, (s) =>
      s.hub.method('join', {params: {group: z.string()}, handler: ({group}, {hub, caller}) => hub.addToGroup(caller, group)}),
    );
    const [a, b, c] = await Promise.all([open(), open(), open()]);
    const got: string[] = [];
    for (const [name, conn] of [['a', a], ['b', b], ['c', c]] as const) conn.on('m', (t: string) => got.push(`${name}:${t}`));
    await a.invoke('join', 'x');
    await a.invoke('join', 'y');
    await b.invoke('join', 'y');
    const hub = server!.hub;
    hub.clients.allExcept([a.connectionId!]).send('m', 'allExcept');
    hub.clients.clients([a.connectionId!, c.connectionId!]).send('m', 'clients');
    hub.clients.groups(['x', 'y']).send('m', 'groups');
    hub.clients.groupExcept('y', [b.connectionId!]).send('m', 'groupExcept');
    hub.clients.all.send('m', 'end');
    await new Promise<void>((resolve) => {
      const check = () => (got.filter((g) => g.endsWith(':end')).length === 3 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(got.filter((g) => !g.endsWith(':end')).sort()).toEqual(
      ['b:allExcept', 'c:allExcept', 'a:clients', 'c:clients', 'a:groups', 'b:groups', 'a:groupExcept'].sort(),
    );
  });

  it('calls the lifecycle hooks, and clears groups on disconnect', async () => {
    const events: string[] = [];
    const {connect: open} = await connect(
      {hub: {onConnected: (c) => events.push(`up:${c.transport}`), onDisconnected: (c, e) => events.push(`down:${e === undefined ? 'clean' : 'error'}:${c.groups.size}`)}},
      (s) => s.hub.method('join', {params: {group: z.string()}, handler: ({group}, {hub, caller}) => hub.addToGroup(caller, group)}),
    );
    const c = await open();
    await c.invoke('join', 'g');
    expect(server!.hub.groupSize('g')).toBe(1);
    await c.stop();
    await expect.poll(() => server!.hub.groupSize('g')).toBe(0);
    expect(events).toEqual(['up:WebSockets', 'down:clean:0']);
  });
});
