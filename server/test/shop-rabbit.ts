import {spawn, type ChildProcess} from 'node:child_process';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {randomUUID} from 'node:crypto';
import {redisEngine, type SwitchboardServer} from '@switchboard/hub';
import {OrderPlaced, PRODUCTS} from '@switchboard/shop-contracts';
import type {QueueType, RabbitBridge} from '@switchboard/rabbitmq';
import {pino} from 'pino';
import {Shop} from '../src/domain/shop';
import {declareShopQueues, shopBridge} from '../src/rabbitmq';
import {testServerArgs} from '../../scripts/test-servers.js';
import {startServer} from './helpers';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A hub whose shop keeps commands and read models while the services run elsewhere, bridged to RabbitMQ. */
export interface RabbitHub {
  readonly server: SwitchboardServer;
  /** Its HTTP base, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly shop: Shop;
  readonly bridge: RabbitBridge;
  close(): Promise<void>;
}

/** Options of {@link startRabbitHub}. */
export interface RabbitHubOptions {
  /** The shop's queue type (`AMQP_QUEUE_TYPE`); default quorum. */
  readonly queueType?: QueueType;
  /** Topics on Redis (`REDIS_URL`), under `prefix`, so a hub started again finds them; in memory by default. */
  readonly redis?: {readonly url: string; readonly prefix: string};
}

/** Starts a hub as `AMQP_URL=… SHOP_SERVICES=external npm start` runs it, on a free port, with an in-memory log (or on Redis). */
export async function startRabbitHub(amqpUrl: string, options: RabbitHubOptions = {}): Promise<RabbitHub> {
  const engine = options.redis === undefined ? undefined : redisEngine(options.redis);
  const {server, url} = await startServer(engine === undefined ? {} : {engine});
  const shop = new Shop({
    events: server.events,
    logger: pino({level: 'silent'}),
    runServices: false,
    ...(engine === undefined ? {} : {streams: {connection: engine.connection, keys: engine.keys, log: engine.log, node: `node-${randomUUID()}`}}),
  });
  server.addRoutes(shop.routes);
  await shop.start();
  const bridge = shopBridge(amqpUrl, server, options.queueType);
  await declareShopQueues(amqpUrl, pino({level: 'silent'}), options.queueType);
  await bridge.start();
  return {
    server,
    url,
    shop,
    bridge,
    async close() {
      shop.close();
      await bridge.close();
      await server.close();
    },
  };
}

/** A `npm run services` process: its child process and the events it reported handling. */
export interface ServicesProcess {
  readonly child: ChildProcess;
  /** Deliveries acknowledged so far, from its debug log. */
  handled(): number;
  /** Of those, deliveries the broker had given another consumer before (redeliveries). */
  redelivered(): number;
  /** The start of what it logged (its first 20,000 characters, then warnings and errors only), for a failing test's message. */
  output(): string;
  /** SIGKILL, like a crash; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop); resolves once it is gone. */
  stop(): Promise<void>;
}

/** Starts `server/src/services-main.ts` against `amqpUrl`; resolves once it consumes. */
export async function startServicesProcess(amqpUrl: string, env: Record<string, string> = {}): Promise<ServicesProcess> {
  const child = spawn(process.execPath, testServerArgs('services'), {
    cwd: root,
    env: {...process.env, AMQP_URL: amqpUrl, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', SHIPPING_DELAY_MS: '0', PAYMENT_FAILURE_RATE: '0', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let handled = 0;
  let redelivered = 0;
  let output = '';
  let buffered = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.includes('"msg":"handled"')) {
          handled++;
          if (line.includes('"redelivered":true')) redelivered++;
        }
        if (line.includes('consume from RabbitMQ')) resolveReady();
        if (output.length < 20_000 || /"level":(40|50|60)/.test(line)) output += line + '\n';
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exited.then(() => reject(new Error(`the services process exited before it was ready:\n${output}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await ready.finally(() => clearTimeout(timer));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {child, handled: () => handled, redelivered: () => redelivered, output: () => output, kill: () => end('SIGKILL'), stop: () => end('SIGTERM')};
}

/** The stock each product should have after `reserved` units were taken of it, starting from the default 20. */
export function stockAfter(reserved: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries(PRODUCTS.map((p) => [p.sku, 20 - (reserved.get(p.sku) ?? 0)]));
}

/** Places `n` orders of one unit on `hub`, spread over the products, as the `order.place` command does; returns their ids and the units per sku. */
export function placeOrders(hub: RabbitHub, n: number): {ids: string[]; reserved: Map<string, number>} {
  const ids: string[] = [];
  const reserved = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const sku = PRODUCTS[i % PRODUCTS.length]!.sku;
    const orderId = `o-${randomUUID()}`;
    hub.shop.bus.publish(OrderPlaced, {orderId, sku, quantity: 1}, {source: 'service:orders'});
    ids.push(orderId);
    reserved.set(sku, (reserved.get(sku) ?? 0) + 1);
  }
  return {ids, reserved};
}
