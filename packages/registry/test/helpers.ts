import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {DeployRegistry, MemoryRegistryStore, sri, type DeployRecordInput, type RegistryStore} from '@switchboard/registry';

/** A real HTTP server serving modules from a map that tests change. */
export interface ModuleServer {
  readonly url: string;
  readonly files: Map<string, string>;
  close(): Promise<void>;
}

export async function moduleServer(): Promise<ModuleServer> {
  const files = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {'content-type': 'text/javascript'}).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Serves a module for `name@version` and returns its deploy record (with its true integrity). */
export function app(modules: ModuleServer, name: string, version: string, extra: Partial<DeployRecordInput> = {}): DeployRecordInput {
  const path = `/${name}/${version}/${name}.js`;
  const body = `customElements.define('x-${name}', class extends HTMLElement {}); // ${version}`;
  modules.files.set(path, body);
  return {name, version, tag: `x-${name}`, module: `${modules.url}${path}`, integrity: sri(new TextEncoder().encode(body)), publishes: [], ...extra};
}

export function registryOn(store: RegistryStore = new MemoryRegistryStore()): DeployRegistry {
  return new DeployRegistry({store});
}
