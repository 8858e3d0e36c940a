import {randomUUID} from 'node:crypto';
import {mintToken} from '../../scripts/token';
import {OrderPlaced, shopRegistry, shopTopics} from '@switchboard/shop-contracts';
import {MemoryTopicLog, SwitchboardServer, type SwitchboardServerOptions} from '@switchboard/hub';
import {pino} from 'pino';
import * as signalR from '@microsoft/signalr';
import {Bus} from '@switchboard/bus';
import {createEnvelope, type Envelope} from '@switchboard/contracts';
import {HubBridge, type HubBridgeOptions, type TransportName} from '@switchboard/signalr';

/** The in-memory log each test server was given, for synchronous reads in assertions. */
const logs = new WeakMap<SwitchboardServer, MemoryTopicLog>();

/** The synchronous in-memory log behind a server started by {@link startServer}. */
export function logOf(server: SwitchboardServer): MemoryTopicLog {
  const log = logs.get(server);
  if (log === undefined) throw new Error('logOf needs a server started by startServer with an in-memory log');
  return log;
}

/** A hub on a free loopback port, silent, with the shop's contracts. Close it after the test. */
export async function startServer(options: Partial<SwitchboardServerOptions> = {}): Promise<{server: SwitchboardServer; url: string}> {
  const log = options.log ?? (options.engine === undefined ? new MemoryTopicLog() : undefined);
  const server = new SwitchboardServer({registry: shopRegistry(), logger: pino({level: 'silent'}), ...options, ...(log === undefined ? {} : {log})});
  if (log instanceof MemoryTopicLog) logs.set(server, log);
  const url = await server.listen(0);
  return {server, url};
}

/** A hub run with tokens on (anonymous pages allowed), as main.ts runs it with AUTH_JWT_SECRET, and a producer's token for it. */
export async function producerAccess(topic = 'orders'): Promise<{env: Record<string, string>; headers: Record<string, string>}> {
  const secret = `test-secret-${randomUUID()}`;
  const token = await mintToken(secret, {sub: 'test-producer', scope: `publish:${topic}`, ttlSeconds: 3600});
  return {env: {AUTH_JWT_SECRET: secret, AUTH_ALLOW_ANONYMOUS: '1'}, headers: {'content-type': 'application/json', authorization: `Bearer ${token}`}};
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 5 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A page bridge on the shop's topics for tests: no storage, no logs; `transport` pins one transport. */
export function shopBridge(url: string, bus: Bus, options: Partial<HubBridgeOptions> = {}, transport?: TransportName): HubBridge {
  return new HubBridge({
    url: `${url}/hubs/events`,
    bus,
    topics: shopTopics,
    storage: undefined,
    logLevel: signalR.LogLevel.None,
    log: false,
    ...(transport === undefined ? {} : {transport}),
    ...options,
  });
}

/** A bus on the shop's contracts that keeps rejections and dead letters quiet. */
export const quietBus = (): Bus => new Bus({registry: shopRegistry(), onReject: () => {}, onDeadLetter: () => {}});

/** The n-th `order.placed` of a test publisher, with a stable id. */
export const orderEvent = (n: number): Envelope =>
  createEnvelope(OrderPlaced, {orderId: `o-${n}`, sku: 'tea-sencha', quantity: 1}, {source: 'test:publisher', id: `e-${n}`});
