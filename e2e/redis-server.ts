/**
 * `node --import tsx e2e/redis-server.ts`: Debian's redis-server (AOF on) on $PORT in a temporary
 * directory, for the e2e project that runs the demo on Redis. SIGTERM or SIGINT stops it and
 * removes the directory (playwright.config.ts stops it with SIGTERM).
 */
import {startRedis} from '../packages/hub/test/redis-server.js';

const redis = await startRedis({aof: true, port: Number(process.env['PORT'])});
console.log(`redis-server for the e2e run on ${redis.url}`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void redis.stop().then(() => process.exit(0));
  });
}
