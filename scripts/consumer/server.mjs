// A user's server, written against the published packages and run by plain Node (no tsx, no build);
// LOG_LEVEL (set to warn by the test) quiets the kit's logger.
import {ContractRegistry} from '@switchboard/contracts';
import {SwitchboardServer} from '@switchboard/hub';
import {Greeted} from './contracts.mjs';

const server = new SwitchboardServer({
  registry: new ContractRegistry().register(Greeted),
  staticDir: new URL('./dist', import.meta.url).pathname,
});
const url = await server.listen(0, '127.0.0.1');
console.log(`listening ${url}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
