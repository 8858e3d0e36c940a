/**
 * Conformance: the official @microsoft/signalr client (Node build, with
 * @microsoft/signalr-protocol-msgpack) against the hub, for every transport × protocol the client
 * allows. The client is the judge: nothing here talks to the hub any other way.
 */
import * as signalR from '@microsoft/signalr';
import {MessagePackHubProtocol} from '@microsoft/signalr-protocol-msgpack';
import {testRegistry} from './fixtures.js';
import {pino} from 'pino';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {SwitchboardServer} from '../src/index.js';
import {conformanceHub, type Observed} from './conformance-hub.js';

const {WebSockets, ServerSentEvents, LongPolling} = signalR.HttpTransportType;

const matrix = [
  {name: 'WebSockets × JSON', transport: WebSockets, msgpack: false},
  {name: 'WebSockets × MessagePack', transport: WebSockets, msgpack: true},
  {name: 'ServerSentEvents × JSON', transport: ServerSentEvents, msgpack: false},
  {name: 'LongPolling × JSON', transport: LongPolling, msgpack: false},
  {name: 'LongPolling × MessagePack', transport: LongPolling, msgpack: true},
];

/** Resolves when `check` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(matrix)('$name', ({transport, msgpack}) => {
  let server: SwitchboardServer;
  let url: string;
  let observed: Observed;
  const opened: signalR.HubConnection[] = [];

  beforeEach(async () => {
    server = new SwitchboardServer({
      registry: testRegistry(),
      logger: pino({level: 'silent'}),
      hub: {onReconnected: () => observed.resumed++},
      // Tokens are user names here; a real authenticator verifies a JWT.
      endpoint: {authenticate: ({token}) => (token === undefined || token === 'nobody' ? null : {userId: token})},
    });
    observed = conformanceHub(server.hub);
    url = `${await server.listen(0)}/hubs/events`;
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.stop()));
    await server.close();
  });

  function build(user = 'alice', configure?: (b: signalR.HubConnectionBuilder) => signalR.HubConnectionBuilder): signalR.HubConnection {
    let builder = new signalR.HubConnectionBuilder()
      .withUrl(url, {transport, accessTokenFactory: () => user})
      .configureLogging(signalR.LogLevel.None);
    if (msgpack) builder = builder.withHubProtocol(new MessagePackHubProtocol());
    if (configure !== undefined) builder = configure(builder);
    const connection = builder.build();
    opened.push(connection);
    return connection;
  }

  async function started(user?: string, configure?: (b: signalR.HubConnectionBuilder) => signalR.HubConnectionBuilder): Promise<signalR.HubConnection> {
    const connection = build(user, configure);
    await connection.start();
    return connection;
  }

  it('connects and invokes with results; a deliberate error passes its message, others stay generic', async () => {
    const c = await started();
    expect(await c.invoke('add', 2, 40)).toBe(42);
    const value = {text: 'héllo ✓', list: [1, 2.5, null, true], nested: {deep: ['x']}};
    expect(await c.invoke('ECHO', value)).toEqual(value);
    await expect(c.invoke('fail', true)).rejects.toThrow('Out of stock.');
    await expect(c.invoke('fail', false)).rejects.toThrow("An unexpected error occurred invoking 'fail' on the server.");
    await expect(c.invoke('fail', false)).rejects.not.toThrow('hunter2');
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
  });

  it('sends results of every frame size: short, 16-bit and 64-bit lengths', async () => {
    const c = await started();
    for (const length of [10, 200, 70_000]) expect(((await c.invoke('big', length)) as string).length).toBe(length);
  });

  it('sends fire-and-forget invocations', async () => {
    const c = await started();
    const fired = new Promise((resolve) => c.on('fired', resolve));
    await c.send('fire', 'hello');
    expect(await fired).toBe('HELLO');
  });

  it('pushes to groups and to others, and not beyond them', async () => {
    const [a, b] = await Promise.all([started('alice'), started('bob')]);
    const atA: string[] = [];
    const atB: string[] = [];
    a.on('groupMessage', (t: string) => atA.push(t));
    b.on('groupMessage', (t: string) => atB.push(t));
    b.on('othersMessage', (t: string) => atB.push(`others:${t}`));
    await a.invoke('join', 'tea');
    await b.invoke('toGroup', 'tea', 'first');
    await until(() => atA.length === 1);
    await a.invoke('toOthers', 'hi');
    await a.invoke('leave', 'tea');
    await b.invoke('toGroup', 'tea', 'second');
    await b.invoke('echo', null); // everything sent to b before this completion has arrived
    await a.invoke('echo', null);
    expect(atA).toEqual(['first']);
    expect(atB).toEqual(['others:hi']);
  });

  it('pushes to every connection of a user, identified by the access token', async () => {
    const [alice1, alice2, bob] = await Promise.all([started('alice'), started('alice'), started('bob')]);
    expect(await bob.invoke('whoAmI')).toBe('bob');
    const got: string[] = [];
    alice1.on('userMessage', (t: string) => got.push(`1:${t}`));
    alice2.on('userMessage', (t: string) => got.push(`2:${t}`));
    bob.on('userMessage', (t: string) => got.push(`bob:${t}`));
    await bob.invoke('toUser', 'alice', 'your tea is ready');
    await until(() => got.length === 2);
    await bob.invoke('echo', null);
    expect(got.sort()).toEqual(['1:your tea is ready', '2:your tea is ready']);
  });

  it('refuses a connection without a valid access token', async () => {
    const c = build('nobody');
    await expect(c.start()).rejects.toThrow(/401|Unauthorized/);
  });

  it('streams from server to client', async () => {
    const c = await started();
    const items: number[] = [];
    await new Promise<void>((resolve, reject) =>
      c.stream<number>('counter', 5, 0).subscribe({next: (i) => void items.push(i), complete: resolve, error: reject}),
    );
    expect(items).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops the server producer when the client cancels a stream', async () => {
    const c = await started();
    const items: number[] = [];
    const subscription = c.stream<number>('counter', 10_000, 5).subscribe({
      next: (i) => {
        items.push(i);
        if (items.length === 3) subscription.dispose();
      },
      complete: () => {},
      error: () => {},
    });
    await until(() => observed.cancelled === 1);
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(await c.invoke('add', 1, 1)).toBe(2);
  });

  it('streams from client to server', async () => {
    const c = await started();
    const numbers = new signalR.Subject<number>();
    const total = c.invoke<number>('sum', numbers);
    for (const n of [1, 2, 3, 4, 5]) await numbers.next(n);
    numbers.complete();
    expect(await total).toBe(15);
  });

  it('asks a client for a result', async () => {
    const c = await started();
    c.on('getAnswer', (question: number) => question * 2);
    expect(await c.invoke('askClient', 21)).toBe(42);
  });

  it('reports a client result the client failed to give', async () => {
    const c = await started();
    await expect(c.invoke('askClient', 1)).rejects.toThrow("An unexpected error occurred invoking 'askClient' on the server.");
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
  });

  it('reconnects automatically after the transport is cut', async () => {
    const c = await started('alice', (b) => b.withAutomaticReconnect([0, 50, 100, 200]));
    const first = c.connectionId;
    const reconnected = new Promise<string | undefined>((resolve) => c.onreconnected(resolve));
    await c.invoke('drop');
    expect(await reconnected).toBeTruthy();
    expect(c.connectionId).not.toBe(first);
    expect(await c.invoke('add', 3, 4)).toBe(7);
  });

  it('closes with an error, and does not reconnect unless invited', async () => {
    const c = await started('alice', (b) => b.withAutomaticReconnect([0, 50]));
    const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
    await c.invoke('kick', 'maintenance window', false);
    const error = await closed;
    expect(error?.message).toContain('maintenance window');
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });

  it('reconnects when a close allows it', async () => {
    const c = await started('alice', (b) => b.withAutomaticReconnect([0, 50, 100]));
    const reconnected = new Promise((resolve) => c.onreconnected(resolve));
    await c.invoke('kick', null, true);
    await reconnected;
    expect(await c.invoke('add', 1, 2)).toBe(3);
  });

  // Stateful reconnect exists for WebSockets only, so only those combinations define the case.
  if (transport === WebSockets) {
    it('resumes after a socket drop with stateful reconnect: nothing lost, nothing twice', async () => {
      const listener = await started('alice', (b) => b.withStatefulReconnect());
      const sender = await started('bob');
      const got: number[] = [];
      let reconnecting = 0;
      listener.onreconnecting(() => reconnecting++);
      listener.on('groupMessage', (t: string) => got.push(Number(t)));
      await listener.invoke('join', 'drill');
      const id = listener.connectionId;
      let sent = 0;
      const sending = (async () => {
        for (; sent < 300; sent++) {
          await sender.send('toGroup', 'drill', String(sent));
          if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      })();
      await until(() => got.length >= 50);
      await listener.invoke('drop');
      await sending;
      await until(() => got.length >= 300, 10_000);
      await sender.invoke('echo', null);
      expect(got).toEqual(Array.from({length: 300}, (_, i) => i));
      expect(listener.connectionId).toBe(id);
      expect(reconnecting).toBe(0);
      // Invocations work across the resumed connection too.
      expect(await listener.invoke('add', 20, 22)).toBe(42);
      expect(observed.resumed).toBe(1);
    });

    it('acks what it receives, so a stateful client can send past its 100 KB buffer', async () => {
      const c = await started('alice', (b) => b.withStatefulReconnect({bufferSize: 20_000}));
      const chunk = 'x'.repeat(1000);
      // 100 KB through a 20 KB client buffer: the client blocks at the limit until the server acks.
      for (let i = 0; i < 100; i++) await c.send('echo', chunk);
      expect(await c.invoke('add', 1, 1)).toBe(2);
    });
  }
});
