/**
 * The read models' follower on a real redis-server: across a cut connection it applies exactly
 * what it missed, in order; when retention trimmed past what it applied it rebuilds from what is left.
 */
import {createEnvelope, type Envelope} from '@switchboard/contracts';
import {redisEngine, type RedisEngine} from '@switchboard/hub';
import {OrderPlaced} from '@switchboard/shop-contracts';
import {pino} from 'pino';
import {afterEach, expect, it} from 'vitest';
import {startRedis} from '../../packages/hub/test/redis-server.js';
import {StreamFollower, type TopicEvent} from '../src/domain/stream-follower';
import {RedisLink, until} from './shop-nodes';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

const logger = pino({level: 'silent'});

async function engine(url: string, maxEvents = 10_000): Promise<RedisEngine> {
  const started = redisEngine({url, prefix: 'follow', maxEvents});
  await started.start(logger);
  cleanup.push(() => started.close());
  return started;
}

const placed = (n: number): Envelope => createEnvelope(OrderPlaced, {orderId: `o-${n}`, sku: 'tea-assam', quantity: 1}, {source: 'test'});
const ids = (events: readonly TopicEvent[]) => events.map((e) => (e.event.data as {orderId: string}).orderId);

/** A follower of `orders` through `link`, recording what it applies and each rebuild. */
async function follow(url: string): Promise<{applied: TopicEvent[]; rebuilds: TopicEvent[][]; follower: StreamFollower}> {
  const applied: TopicEvent[] = [];
  const rebuilds: TopicEvent[][] = [];
  const follower = new StreamFollower({
    log: (await engine(url)).log,
    topics: ['orders'],
    logger,
    apply: (e) => applied.push(e),
    rebuild: (events) => rebuilds.push([...events]),
    pageSize: 3,
  });
  cleanup.push(() => follower.close());
  await follower.start();
  return {applied, rebuilds, follower};
}

it('applies what was appended while its connection was cut, in order and once, reading on from its last offset in pages', async () => {
  const redis = await startRedis();
  cleanup.push(() => redis.stop());
  const link = await RedisLink.open(redis.port);
  cleanup.push(() => link.cut());
  const writer = await engine(redis.url);
  for (let n = 1; n <= 2; n++) await writer.log.append('orders', placed(n));
  const {applied, rebuilds, follower} = await follow(link.url);
  expect(ids(applied)).toEqual(['o-1', 'o-2']);

  await link.cut();
  for (let n = 3; n <= 9; n++) await writer.log.append('orders', placed(n));
  await link.restore();
  await until(() => applied.length >= 9, 15_000, 'the missed events applied');
  await writer.log.append('orders', placed(10));
  await until(() => applied.length >= 10, 15_000, 'the next live event applied');
  await new Promise((r) => setTimeout(r, 200));
  expect(ids(applied)).toEqual(Array.from({length: 10}, (_, i) => `o-${i + 1}`));
  expect(rebuilds).toEqual([]);
  expect(follower.offsets(['orders'])).toEqual({orders: await writer.log.head('orders')});
}, 30_000);

it('rebuilds from what is left when retention trimmed events it never applied', async () => {
  const redis = await startRedis();
  cleanup.push(() => redis.stop());
  const link = await RedisLink.open(redis.port);
  cleanup.push(() => link.cut());
  const writer = await engine(redis.url, 4);
  for (let n = 1; n <= 2; n++) await writer.log.append('orders', placed(n));
  const {applied, rebuilds, follower} = await follow(link.url);

  await link.cut();
  for (let n = 3; n <= 12; n++) await writer.log.append('orders', placed(n));
  await link.restore();
  await until(() => rebuilds.length > 0, 15_000, 'a rebuild');
  expect(ids(applied)).toEqual(['o-1', 'o-2']);
  expect(rebuilds.map(ids)).toEqual([['o-9', 'o-10', 'o-11', 'o-12']]);
  expect(follower.offsets(['orders'])).toEqual({orders: await writer.log.head('orders')});
}, 30_000);
