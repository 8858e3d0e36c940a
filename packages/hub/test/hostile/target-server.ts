/**
 * A server under attack for the lock-out and amplification attacks, in its own process (rss from /proc, auth and a command handler by option): an attack that kills or bloats it then shows as a
 * dead child or a large RSS instead of taking the test runner with it. Prints its URL on the first
 * line of stdout; options come as JSON in argv[2] (`jwtSecret` turns on JWT auth with anonymous
 * clients let in, as `AUTH_JWT_SECRET` + `AUTH_ALLOW_ANONYMOUS=1` do in the demo; `placeOrders`
 * handles the `order.place` command).
 */
import {pino} from 'pino';
import {jwtAuthenticator, SwitchboardServer, type SwitchboardServerOptions} from '../../src/index.js';
import {PlaceOrder, testRegistry} from '../fixtures.js';

const {jwtSecret, placeOrders, ...options} = JSON.parse(process.argv[2] ?? '{}') as Partial<SwitchboardServerOptions> & {jwtSecret?: string; placeOrders?: boolean};
const endpoint = jwtSecret === undefined ? options.endpoint : {...options.endpoint, authenticate: jwtAuthenticator({secret: jwtSecret, allowAnonymous: true})};
const server = new SwitchboardServer({registry: testRegistry(), logger: pino({level: 'silent'}), ...options, ...(endpoint === undefined ? {} : {endpoint})});
// `placeOrders`: the order.place command is handled (it answers an order id), for command floods.
let placed = 0;
if (placeOrders === true) server.events.handle(PlaceOrder, () => ({orderId: `o-${++placed}`}));
server.listen(0).then((url) => console.log(url));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
