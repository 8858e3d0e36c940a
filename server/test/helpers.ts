import {shopRegistry} from '@switchboard/shop-contracts';
import {SwitchboardServer, type SwitchboardServerOptions} from '@switchboard/hub';
import {pino} from 'pino';

/** A hub on a free loopback port, silent, with the shop's contracts. Close it after the test. */
export async function startServer(options: Partial<SwitchboardServerOptions> = {}): Promise<{server: SwitchboardServer; url: string}> {
  const server = new SwitchboardServer({registry: shopRegistry(), logger: pino({level: 'silent'}), ...options});
  const url = await server.listen(0);
  return {server, url};
}
