import {randomBytes, randomUUID} from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import {ContractRegistry, defineEvent, type Envelope} from '@switchboard/contracts';
import {MemoryTopicLog, SwitchboardServer, type SwitchboardServerOptions} from '@switchboard/hub';
import {pino} from 'pino';
import {z} from 'zod';
import {RabbitBridge, type RabbitBridgeOptions} from '../src/index.js';

/** A fact a back-end service reports: what producers on RabbitMQ send. */
export const StockChanged = defineEvent({
  type: 'stock.changed',
  description: 'The stock of a product changed.',
  schema: z.object({sku: z.string().min(1).max(64), available: z.number().int().min(0)}),
});

/** A type only server code may append (the policy tests). */
export const PriceSet = defineEvent({
  type: 'price.set',
  description: 'A price was set.',
  schema: z.object({sku: z.string().min(1), cents: z.number().int().positive()}),
});

/** A command pages send, answered by a service over RPC. */
export const ReserveStock = defineEvent({
  type: 'stock.reserve',
  kind: 'command',
  description: 'Reserve quantity units of sku.',
  schema: z.object({sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(100)}),
});

/** What a page publishes (a page-caused event a back-end service consumes). */
export const CartNoted = defineEvent({
  type: 'cart.noted',
  description: 'A customer wrote a note on the cart.',
  schema: z.object({note: z.string().max(200)}),
});

/** The test contracts. */
export function testRegistry(): ContractRegistry {
  return new ContractRegistry().register(StockChanged, PriceSet, ReserveStock, CartNoted);
}

/** A unique name per test, so tests share a broker without sharing queues or exchanges. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A valid stock.changed envelope. */
export function stockChanged(available: number, overrides: Partial<Record<keyof Envelope, unknown>> = {}): Envelope {
  const id = randomUUID();
  return {id, type: 'stock.changed', version: 1, time: new Date().toISOString(), source: 'service:inventory', correlationId: id, data: {sku: 'tea', available}, ...overrides} as Envelope;
}

/** A silent server on a free port with the test contracts (`price.*` server-owned) and a bridge to `amqpUrl`, started. */
export async function startHub(
  amqpUrl: string,
  bridge: Omit<RabbitBridgeOptions, 'url' | 'server'>,
  options: Partial<SwitchboardServerOptions> = {},
): Promise<{server: SwitchboardServer; bridge: RabbitBridge; url: string; close(): Promise<void>}> {
  const server = new SwitchboardServer({
    registry: testRegistry(),
    logger: pino({level: process.env['LOG_LEVEL'] ?? 'silent'}),
    serverOwned: ['price.*'],
    ...(options.engine === undefined && options.log === undefined ? {log: new MemoryTopicLog()} : {}),
    ...options,
  });
  const url = await server.listen(0);
  let rabbit: RabbitBridge;
  try {
    rabbit = new RabbitBridge({url: amqpUrl, server, maxRetryDelayMs: 500, ...bridge});
    await rabbit.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    server,
    bridge: rabbit,
    url,
    async close() {
      await rabbit.close();
      await server.close();
    },
  };
}

/** An official @microsoft/signalr client of `url`'s hub over WebSockets, subscribed to `topic`; records event ids. */
export async function subscriber(url: string, topic: string): Promise<{ids: string[]; events: Array<{offset: string; event: {id: string; type: string; data: unknown}}>; stop(): Promise<void>}> {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/events`, {transport: signalR.HttpTransportType.WebSockets})
    .configureLogging(signalR.LogLevel.None)
    .build();
  const events: Array<{offset: string; event: {id: string; type: string; data: unknown}}> = [];
  const ids: string[] = [];
  connection.on('event', (e: {topic: string; offset: string; event: {id: string; type: string; data: unknown}}) => {
    if (e.topic !== topic) return;
    events.push(e);
    ids.push(e.event.id);
  });
  await connection.start();
  await connection.invoke('subscribe', topic, null);
  return {ids, events, stop: () => connection.stop()};
}

/** Resolves once `check` holds; rejects after `ms` naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
