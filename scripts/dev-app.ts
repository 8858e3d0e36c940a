/**
 * `npm run dev:app -- <name> [--dir DIR] [--port N] [--origin URL]…`: serves one app from its
 * source with Vite, for a deployed page to load through a local override; prints the URL to point
 * the page at. Edits reload the page (see docs/guide/deploy.md, "Develop against a deployed page").
 */
import {existsSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {createServer} from 'vite';
import {appNames} from '../vite.config';
import {devOverrideConfig} from './federation/dev-override';

const usage = 'usage: npm run dev:app -- <name> [--dir DIR] [--port N] [--origin URL]…';
function parse() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {dir: {type: 'string'}, port: {type: 'string'}, origin: {type: 'string', multiple: true}},
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}
const {values, positionals} = parse();
const name = positionals[0];
const dir = values.dir === undefined ? (name === undefined ? undefined : resolve('apps', name)) : resolve(values.dir);
if (name === undefined || dir === undefined || (values.dir === undefined && !appNames().includes(name)) || !existsSync(join(dir, 'src/index.ts'))) {
  console.error(`${usage}\n  the app's entry is <dir>/src/index.ts; apps here: ${appNames().join(', ')}`);
  process.exit(2);
}
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
  console.error(`--port must be a port number (0 picks a free one)\n${usage}`);
  process.exit(2);
}
for (const origin of values.origin ?? []) {
  if (!/^https?:\/\/[^/]+$/.test(origin)) {
    console.error(`--origin ${origin}: an origin is a scheme and a host, e.g. https://staging.shop.example\n${usage}`);
    process.exit(2);
  }
}

const server = await createServer(devOverrideConfig({dir, ...(port === undefined ? {} : {port}), origins: values.origin ?? []}));
await server.listen();
const address = server.httpServer!.address() as {port: number};
const url = `http://127.0.0.1:${address.port}/src/index.ts`;
console.log(`override URL: ${url}`);
console.log(`  ${name} from ${dir}, shared packages from the page's import map; an edit reloads the page.`);
console.log(`  Point a deployed page at it: <page>/?sb-override=${name}=${url}`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  server.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
