import type {HubMessage, HubProtocol} from '../protocol';
import type {TransportConnection, TransportKind} from '../transports/transport-connection';

/** Where a connection is in its life. */
export type ConnectionPhase = 'handshake' | 'open' | 'closed';

/**
 * The hub's view of one client connection: its negotiated protocol, its groups, its clocks.
 * Hub methods receive it as the caller.
 */
export class HubConnection {
  readonly connectionId: string;
  readonly transport: TransportKind;
  /** Groups this connection belongs to. */
  readonly groups = new Set<string>();
  /** Free-form per-connection state for hub methods. */
  readonly items = new Map<string, unknown>();
  phase: ConnectionPhase = 'handshake';
  protocol: HubProtocol | undefined;
  /** The user this connection authenticated as, if any. */
  userId: string | undefined;
  readonly openedAt: number;
  lastReceivedAt: number;
  lastSentAt: number;
  readonly #transport: TransportConnection;

  constructor(transport: TransportConnection, now: number) {
    this.#transport = transport;
    this.connectionId = transport.connectionId;
    this.transport = transport.transport;
    this.openedAt = this.lastReceivedAt = this.lastSentAt = now;
  }

  /** The request that opened the connection. */
  get request(): TransportConnection['request'] {
    return this.#transport.request;
  }

  /** Serializes and sends one message. */
  send(message: HubMessage): void {
    if (this.protocol !== undefined) this.sendSerialized(this.protocol.writeMessage(message));
  }

  /** Sends bytes already serialized with this connection's protocol (a broadcast serializes once). */
  sendSerialized(payload: Uint8Array): void {
    if (this.phase === 'closed') return;
    this.lastSentAt = Date.now();
    this.#transport.send(payload, this.protocol?.transferFormat === 'Binary');
  }

  /** Sends raw handshake bytes, which are always text. */
  sendHandshake(payload: Uint8Array): void {
    this.lastSentAt = Date.now();
    this.#transport.send(payload, false);
  }

  /** Asks the transport to end the connection. */
  closeTransport(): void {
    this.#transport.close();
  }
}
