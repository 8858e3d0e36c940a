import {existsSync} from 'node:fs';
import {createClient} from 'redis';
import {describe, expect, it} from 'vitest';
import {startRedis} from './redis-server.js';

describe('the redis-server test harness', () => {
  it('starts a real redis-server on a free loopback port and removes everything on stop', async () => {
    const redis = await startRedis();
    const client = createClient({url: redis.url});
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(existsSync(redis.dir)).toBe(true);
    } finally {
      client.destroy();
      await redis.stop();
    }
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('keeps what AOF wrote across a kill and restart on the same port', async () => {
    const redis = await startRedis({aof: true});
    try {
      const client = createClient({url: redis.url});
      await client.connect();
      await client.set('k', 'v');
      // appendfsync everysec: give the fsync its second before the crash.
      await new Promise((r) => setTimeout(r, 1500));
      client.destroy();
      await redis.kill();
      await redis.restart();
      const again = createClient({url: redis.url});
      await again.connect();
      expect(await again.get('k')).toBe('v');
      again.destroy();
    } finally {
      await redis.stop();
    }
  });
});
