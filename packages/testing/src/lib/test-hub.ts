import {ContractRegistry, createEnvelope, type Contract, type Envelope, type EnvelopeOf, type EnvelopeOptions, type InputOf} from '@switchboard/contracts';
import {SwitchboardServer, type HubConnection, type PublishOutcome, type SwitchboardServerOptions} from '@switchboard/hub';
import {pino} from 'pino';

/** Options of {@link TestHub.start}: the server's, with the registry optional. */
export interface TestHubOptions extends Partial<SwitchboardServerOptions> {
  /** Contracts the hub validates against, when no `registry` is given. */
  readonly contracts?: readonly Contract[];
}

/** How {@link TestHub.dropConnections} cuts connections. */
export type DropMode = 'abort' | 'reconnect';

/**
 * An in-process Switchboard hub on a free loopback port, for tests: publish server events to
 * topics, drop connections on demand, close it after the test. Any origin may use it (CORS `*`),
 * since only the test's own browser reaches a loopback port.
 *
 * ```ts
 * const hub = await TestHub.start({contracts: [OrderPlaced], staticDir: 'dist'});
 * await hub.publish('orders', OrderPlaced, {orderId: 'o-1', sku: 'tea', quantity: 1});
 * hub.dropConnections();
 * await hub.close();
 * ```
 */
export class TestHub {
  /** The server, for anything this class does not wrap. */
  readonly server: SwitchboardServer;
  /** The base URL, e.g. `http://127.0.0.1:39113`. */
  readonly url: string;
  readonly #open: Set<HubConnection>;

  private constructor(server: SwitchboardServer, url: string, open: Set<HubConnection>) {
    this.server = server;
    this.url = url;
    this.#open = open;
  }

  /** Starts a hub on a free port of 127.0.0.1. */
  static async start(options: TestHubOptions = {}): Promise<TestHub> {
    const {contracts = [], ...serverOptions} = options;
    const open = new Set<HubConnection>();
    const hubOptions = serverOptions.hub ?? {};
    const server = new SwitchboardServer({
      registry: serverOptions.registry ?? new ContractRegistry().register(...contracts),
      logger: pino({level: 'silent'}),
      cors: {origins: '*'},
      ...serverOptions,
      hub: {
        ...hubOptions,
        onConnected: (connection) => {
          open.add(connection);
          hubOptions.onConnected?.(connection);
        },
        onDisconnected: (connection, error) => {
          open.delete(connection);
          hubOptions.onDisconnected?.(connection, error);
        },
      },
    });
    const url = await server.listen(0, '127.0.0.1');
    return new TestHub(server, url, open);
  }

  /** The hub endpoint's URL, for a page's `hub` attribute or a client. */
  get hubUrl(): string {
    return `${this.url}/hubs/events`;
  }

  /** Connections open now (handshake done). */
  get connectionCount(): number {
    return this.#open.size;
  }

  /**
   * Publishes `data` as an event of `contract` on `topic`, as a server service would: appended to
   * the topic's log and pushed to every subscriber. Throws when the hub rejects it.
   */
  async publish<C extends Contract>(topic: string, contract: C, data: InputOf<C>, options: Partial<EnvelopeOptions> = {}): Promise<EnvelopeOf<C>> {
    const envelope = createEnvelope(contract, data, {source: 'test:hub', ...options});
    await this.publishEnvelope(topic, envelope);
    return envelope;
  }

  /** Publishes a ready envelope (or anything, to see it refused) on `topic`; throws when the hub rejects it. */
  async publishEnvelope(topic: string, envelope: Envelope | unknown): Promise<PublishOutcome> {
    // The server's own append: server-owned types pass, as from a service; contracts still apply.
    const result = await this.server.events.append(topic, envelope);
    if (!result.ok) {
      const issues = result.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new Error(`the hub refused the event on "${topic}": ${result.error}${issues ? ` (${issues})` : ''}`);
    }
    return result.value;
  }

  /**
   * Cuts every open connection: `abort` (default) as a network failure would, `reconnect` as a
   * restarting server does (a Close message inviting the client back). Returns how many.
   */
  dropConnections(mode: DropMode = 'abort'): number {
    const connections = [...this.#open];
    for (const connection of connections) {
      if (mode === 'reconnect') this.server.hub.closeConnection(connection, 'Test: the server closed this connection.', true);
      else connection.abortTransport();
    }
    return connections.length;
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    await this.server.close();
  }
}
