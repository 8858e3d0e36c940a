// A user's server, written against the published packages and run by plain Node (no tsx, no build).
import {ContractRegistry} from '@switchboard/contracts';
import {SwitchboardServer} from '@switchboard/hub';
import {pino} from 'pino';
import {Greeted} from './contracts.mjs';

const server = new SwitchboardServer({
  registry: new ContractRegistry().register(Greeted),
  staticDir: new URL('./dist', import.meta.url).pathname,
  logger: pino({level: 'warn'}),
});
const url = await server.listen(0, '127.0.0.1');
console.log(`listening ${url}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
