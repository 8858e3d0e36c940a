import {fileURLToPath} from 'node:url';
import {ContractRegistry} from '@switchboard/contracts';
import {precompress, SwitchboardServer} from '@switchboard/hub';
import {contracts} from './contract';

// The shell page and the hub on one origin: http://127.0.0.1:${PORT:-8080} (PORT=0 picks a free port).
const dist = fileURLToPath(new URL('../dist', import.meta.url));
await precompress(dist);
const server = new SwitchboardServer({
  registry: new ContractRegistry().register(...contracts),
  staticDir: dist,
  notBuilt: 'Nothing is built yet: run "npm run build" (or "npm start", which builds and serves), then reload.',
});
const url = await server.listen(Number(process.env['PORT'] ?? 8080), process.env['HOST'] ?? '127.0.0.1');
console.log(`listening ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.close().then(() => process.exit(0)));
