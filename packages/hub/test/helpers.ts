import {spawn} from 'node:child_process';
import {testServerArgs} from '../../../scripts/test-servers.js';
import * as signalR from '@microsoft/signalr';
import {testRegistry} from './fixtures.js';
import {pino} from 'pino';
import {MemoryTopicLog, SwitchboardServer, type SwitchboardServerOptions} from '../src/index.js';

/** The in-memory log each test server was given, to know its epoch. */
const logs = new WeakMap<SwitchboardServer, MemoryTopicLog>();

/** A server on a free loopback port, silent, with the test contracts. Close it after the test. */
export async function startServer(options: Partial<SwitchboardServerOptions> = {}): Promise<{server: SwitchboardServer; url: string}> {
  const log = options.log ?? (options.engine === undefined ? new MemoryTopicLog() : undefined);
  const server = new SwitchboardServer({registry: testRegistry(), logger: pino({level: 'silent'}), ...options, ...(log === undefined ? {} : {log})});
  if (log instanceof MemoryTopicLog) logs.set(server, log);
  const url = await server.listen(0);
  return {server, url};
}

/** An official @microsoft/signalr client for `url`'s events hub, over WebSockets unless told otherwise. */
export function client(
  url: string,
  options: signalR.IHttpConnectionOptions = {transport: signalR.HttpTransportType.WebSockets},
): signalR.HubConnection {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, options)
    .configureLogging(signalR.LogLevel.None)
    .build();
}

/** A valid order.placed envelope. */
export function orderPlaced(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `evt-${Math.random().toString(36).slice(2)}`,
    type: 'order.placed',
    version: 1,
    time: new Date().toISOString(),
    source: 'test',
    correlationId: 'flow-1',
    data: {orderId: 'o-1', sku: 'tea-sencha', quantity: 2},
    ...overrides,
  };
}

/** Resolves with the next `count` values `subscribe` hands to its callback. */
export function collect<T>(subscribe: (push: (value: T) => void) => void, count: number): Promise<T[]> {
  return new Promise((resolve) => {
    const values: T[] = [];
    subscribe((value) => {
      values.push(value);
      if (values.length === count) resolve(values);
    });
  });
}

/** POSTs `body` as JSON to a topic's ingest endpoint. */
export function postEvent(url: string, topic: string, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(`${url}/api/topics/${topic}/events`, {
    method: 'POST',
    headers: {'content-type': contentType},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The offset `seq` of `server`'s in-memory log: offsets carry the log's random epoch. */
export function offsetAt(server: SwitchboardServer, seq: number): string {
  const log = logs.get(server);
  if (log === undefined) throw new Error('offsetAt needs a server started by startServer with an in-memory log');
  return `${log.epoch}:${seq}`;
}

/** Starts `child-server.ts` in its own Node process; `stop` ends it (by its pid). */
export async function startChildServer(options: Record<string, unknown> = {}): Promise<{url: string; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [...testServerArgs('child-server'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`child server exited with ${code}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
