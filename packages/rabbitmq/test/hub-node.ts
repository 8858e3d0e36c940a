/**
 * A hub node in its own process (so a test can kill -9 it): a SwitchboardServer on Redis with a
 * RabbitMQ ingest binding. Prints its URL on the first line of stdout. argv[2]: JSON
 * `{redisUrl, amqpUrl, topic, queue, prefetch?}`.
 */
import {redisEngine} from '@switchboard/hub';
import {startHub} from './fixtures.js';

const options = JSON.parse(process.argv[2] ?? '{}') as {redisUrl: string; amqpUrl: string; topic: string; queue: string; prefetch?: number};
const hub = await startHub(
  options.amqpUrl,
  {ingest: [{topic: options.topic, queue: options.queue}], ...(options.prefetch === undefined ? {} : {prefetch: options.prefetch})},
  {engine: redisEngine({url: options.redisUrl})},
);
console.log(hub.url);
process.on('SIGTERM', () => void hub.close().then(() => process.exit(0)));
