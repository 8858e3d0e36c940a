/**
 * A server in its own process, for tests where sharing the test's event loop would hide the
 * behaviour (TCP timing between a client still sending and a server answering). Prints its URL
 * on the first line of stdout; options come as JSON in argv[2].
 */
import {pino} from 'pino';
import {SwitchboardServer} from '../src/index.js';
import {testRegistry} from './fixtures.js';

const options = JSON.parse(process.argv[2] ?? '{}') as {maxBodyBytes?: number};
const server = new SwitchboardServer({registry: testRegistry(), logger: pino({level: 'silent'}), ...options});
server.listen(0).then((url) => console.log(url));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
