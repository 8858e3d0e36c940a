import {MessageType, type HubMessage, type HubProtocol} from '../protocol/index.js';
import {DEFAULT_MAX_BUFFERED_BYTES, type SendBufferOverflowError, type TransportConnection, type TransportKind} from '../transports/transport-connection.js';

/** Where a connection is in its life. */
export type ConnectionPhase = 'handshake' | 'open' | 'closed';

/** Messages stateful reconnect counts and may resend; Ping, Close, Ack and Sequence are not counted. */
export function isCounted(type: number): boolean {
  return type >= MessageType.Invocation && type <= MessageType.CancelInvocation;
}

/** Stateful reconnect bookkeeping of one connection, both directions. */
interface Sequencing {
  /** Id of the last counted message sent. */
  sent: number;
  /** Counted messages sent and not yet acked, oldest first, while they fit the buffer. */
  unacked: Array<{readonly id: number; readonly payload: Uint8Array}>;
  unackedBytes: number;
  readonly bufferLimit: number;
  /** False once the buffer overflowed: a dropped socket then ends the connection instead of resuming. */
  resumable: boolean;
  /** Id the next counted message from the client gets. */
  nextReceived: number;
  /** Highest id received from the client; anything at or below it is a resent duplicate. */
  latestReceived: number;
  ackTimer: ReturnType<typeof setTimeout> | undefined;
}

/** How long the server waits after receiving before it acks, as the official client does. */
const ACK_DELAY_MS = 1000;

/**
 * The hub's view of one client connection: its protocol, groups, user, clocks, and (with stateful
 * reconnect) the sequence numbers and replay buffer that let it survive a dropped socket.
 * Hub methods receive it as the caller.
 */
export class HubConnection {
  readonly connectionId: string;
  readonly transport: TransportKind;
  /** The transport proves liveness itself (long polling): no pings, no client timeout. */
  readonly inherentKeepAlive: boolean;
  /** Groups this connection belongs to. */
  readonly groups = new Set<string>();
  /** Free-form per-connection state for hub methods. */
  readonly items = new Map<string, unknown>();
  phase: ConnectionPhase = 'handshake';
  protocol: HubProtocol | undefined;
  /** The user the authenticator said this connection belongs to, if any. */
  readonly userId: string | undefined;
  readonly openedAt: number;
  lastReceivedAt: number;
  /** When the hub's heartbeat last saw something sent (keep-alive needs no finer clock). */
  lastSentAt: number;
  /** Something was sent since the last heartbeat; cheaper than reading the clock on every send. */
  sentSinceBeat = false;
  /** The socket dropped and a reattach may follow: send nothing, buffer counted messages. */
  detached = false;
  /** The hub stopped reading this connection (its receive queue is full): the client timeout waits. */
  receivePaused = false;
  readonly #transport: TransportConnection;
  #sequencing: Sequencing | undefined;

  constructor(transport: TransportConnection, now: number) {
    this.#transport = transport;
    this.connectionId = transport.connectionId;
    this.transport = transport.transport;
    this.inherentKeepAlive = transport.inherentKeepAlive;
    this.userId = transport.request.principal?.userId;
    this.openedAt = this.lastReceivedAt = this.lastSentAt = now;
  }

  /** The request that opened the connection. */
  get request(): TransportConnection['request'] {
    return this.#transport.request;
  }

  /** Whether this connection resumes after a dropped socket (stateful reconnect is on). */
  get stateful(): boolean {
    return this.#sequencing !== undefined;
  }

  /** Whether a dropped socket can be resumed: stateful, and the replay buffer never overflowed. */
  get resumable(): boolean {
    return this.#sequencing?.resumable ?? false;
  }

  /** Serializes and sends one message. */
  send(message: HubMessage): void {
    if (this.protocol !== undefined) this.sendSerialized(this.protocol.writeMessage(message), isCounted(message.type));
  }

  /**
   * Sends bytes already serialized with this connection's protocol (a broadcast serializes once).
   * `counted` says whether stateful reconnect numbers the message (see {@link isCounted}).
   */
  sendSerialized(payload: Uint8Array, counted: boolean): void {
    if (this.phase === 'closed') return;
    const s = this.#sequencing;
    if (counted && s !== undefined) {
      const id = ++s.sent;
      if (s.resumable) {
        s.unacked.push({id, payload});
        s.unackedBytes += payload.byteLength;
        if (s.unackedBytes > s.bufferLimit) {
          // Past the limit the server neither blocks (a broadcast cannot wait for one slow client) nor
          // keeps buffering: it gives up resuming. A later drop then ends the connection, and the
          // client's automatic reconnect plus topic offsets recover instead.
          s.resumable = false;
          s.unacked = [];
          s.unackedBytes = 0;
          // Overflowing while the socket is gone: no reattach can be honoured, so end it now.
          if (this.detached) this.#transport.close();
        }
      }
    }
    if (this.detached) return;
    this.sentSinceBeat = true;
    this.#transport.send(payload, this.protocol?.transferFormat === 'Binary');
  }

  /** Sends the handshake reply, which is always JSON text, whatever the hub protocol. */
  sendHandshake(reply: string): void {
    this.sentSinceBeat = true;
    this.#transport.send(Buffer.from(reply), false);
  }

  /** Asks the transport to end the connection. */
  closeTransport(): void {
    this.#transport.close();
  }

  /** Cuts the transport abruptly, as a network failure would (for failure drills). */
  abortTransport(): void {
    this.#transport.abort();
  }

  /**
   * Cuts the connection as a slow consumer: abruptly (a close would wait behind what the client
   * does not read), ending with `error`, which the hub counts. The client's reconnect resumes its
   * topics from their offsets.
   */
  cutSlowConsumer(error: SendBufferOverflowError): void {
    this.#transport.abort(error);
  }

  /** Bytes sent to this connection and not yet taken by the client (0 when the transport cannot tell). */
  get bufferedBytes(): number {
    return this.#transport.bufferedBytes ?? 0;
  }

  /** The transport's bound on {@link bufferedBytes}: past it the connection is cut as a slow consumer. */
  get maxBufferedBytes(): number {
    return this.#transport.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /**
   * Resolves once {@link bufferedBytes} is below `below`, or the connection ended: a bulk sender
   * (a replay) waits on this between batches so that a reading client is never pushed over the bound.
   */
  drained(below: number): Promise<void> {
    if (this.phase === 'closed' || this.detached) return Promise.resolve();
    return this.#transport.drained?.(below) ?? Promise.resolve();
  }

  /** Turns stateful reconnect on, when the client negotiated it and the transport can resume. */
  enableStatefulReconnect(bufferLimit: number): boolean {
    if (!this.#transport.supportsReconnect) return false;
    this.#sequencing = {
      sent: 0,
      unacked: [],
      unackedBytes: 0,
      bufferLimit,
      resumable: true,
      nextReceived: 1,
      latestReceived: 0,
      ackTimer: undefined,
    };
    this.#transport.enableReconnect();
    return true;
  }

  /**
   * Numbers an incoming counted message. Returns false for a duplicate the client resent after a
   * reattach, which must be dropped; schedules an Ack, so the client's send buffer keeps draining.
   */
  received(): boolean {
    const s = this.#sequencing;
    if (s === undefined) return true;
    const id = s.nextReceived++;
    if (id <= s.latestReceived) return false;
    s.latestReceived = id;
    s.ackTimer ??= setTimeout(() => {
      s.ackTimer = undefined;
      if (this.phase === 'open' && !this.detached) this.send({type: MessageType.Ack, sequenceId: s.latestReceived});
    }, ACK_DELAY_MS);
    s.ackTimer.unref?.();
    return true;
  }

  /** The client acked every counted message up to `sequenceId`: drop them from the replay buffer. */
  acked(sequenceId: number): void {
    const s = this.#sequencing;
    if (s === undefined) return;
    let drop = 0;
    while (drop < s.unacked.length && s.unacked[drop]!.id <= sequenceId) s.unackedBytes -= s.unacked[drop++]!.payload.byteLength;
    if (drop > 0) s.unacked.splice(0, drop);
  }

  /** The client's next counted message will be `sequenceId` (it resends from there after a reattach). */
  sequence(sequenceId: number): void {
    if (this.#sequencing !== undefined) this.#sequencing.nextReceived = sequenceId;
  }

  /**
   * A new socket took over after a drop: tell the client where the server's numbering resumes, then
   * resend everything it has not acked, in order. The client drops what it already had.
   */
  reattached(): void {
    const s = this.#sequencing;
    this.detached = false;
    if (s === undefined) return;
    const first = s.unacked[0]?.id ?? s.sent + 1;
    if (this.protocol !== undefined) this.sendSerialized(this.protocol.writeMessage({type: MessageType.Sequence, sequenceId: first}), false);
    for (const {payload} of s.unacked) {
      this.sentSinceBeat = true;
      this.#transport.send(payload, this.protocol?.transferFormat === 'Binary');
    }
  }

  /** Stops the ack timer; called when the connection ends. */
  dispose(): void {
    clearTimeout(this.#sequencing?.ackTimer);
  }
}
