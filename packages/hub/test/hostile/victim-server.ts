/**
 * The server a hostile test attacks, in its own process: a crash then shows as a dead process the
 * test can see, not as a dead test run. Prints its URL on the first line of stdout. argv[2] is JSON:
 * the JSON-able options of SwitchboardServer, plus `seed` (events appended before listening),
 * `jwtSecret` (JWT auth with anonymous clients let in, as `AUTH_JWT_SECRET` + `AUTH_ALLOW_ANONYMOUS=1`
 * do in the demo) and `placeOrders` (the `order.place` command answers an order id).
 * `GET /test/memory` answers the process's memory after a full GC (the process runs with --expose-gc).
 */
import {pino} from 'pino';
import {jwtAuthenticator, SwitchboardServer, type SwitchboardServerOptions} from '../../src/index.js';
import {sendJson} from '../../src/http/respond.js';
import {PlaceOrder, testRegistry} from '../fixtures.js';

interface VictimOptions extends Omit<Partial<SwitchboardServerOptions>, 'registry' | 'logger'> {
  /** Events of `bytes` bytes of payload appended to `topic` before the server listens. */
  readonly seed?: {readonly topic: string; readonly count: number; readonly bytes: number};
  readonly jwtSecret?: string;
  readonly placeOrders?: boolean;
}

const {seed, jwtSecret, placeOrders, ...options} = JSON.parse(process.argv[2] ?? '{}') as VictimOptions;
const endpoint = jwtSecret === undefined ? options.endpoint : {...options.endpoint, authenticate: jwtAuthenticator({secret: jwtSecret, allowAnonymous: true})};
const server = new SwitchboardServer({registry: testRegistry(), logger: pino({level: 'silent'}), ...options, ...(endpoint === undefined ? {} : {endpoint})});
let placed = 0;
if (placeOrders === true) server.events.handle(PlaceOrder, () => ({orderId: `o-${++placed}`}));
server.addRoutes((_req, res, url) => {
  if (url.pathname !== '/test/memory') return false;
  (globalThis as {gc?: () => void}).gc?.();
  const {rss, heapUsed} = process.memoryUsage();
  sendJson(res, 200, {rss, heapUsed});
  return true;
});
if (seed !== undefined) {
  const blob = 'x'.repeat(seed.bytes);
  for (let i = 0; i < seed.count; i++) {
    const result = await server.events.publish(seed.topic, {
      id: `seed-${i}`,
      type: 'blob.put',
      version: 1,
      time: new Date().toISOString(),
      source: 'test',
      correlationId: 'seed',
      data: {blob},
    });
    if (!result.ok) throw new Error(`seeding failed: ${JSON.stringify(result)}`);
  }
}
console.log(await server.listen(0));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
