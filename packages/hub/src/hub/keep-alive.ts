import {MessageType} from '../protocol/index.js';
import type {HubConnection} from './hub-connection.js';

/** The timings {@link KeepAlive} enforces, resolved from the hub's options. */
export interface KeepAliveTimings {
  /** Send a Ping after this long without sending anything. */
  readonly keepAliveIntervalMs: number;
  /** Close a connection that sent nothing for this long. */
  readonly clientTimeoutMs: number;
  /** Close a connection that sent no handshake within this long. */
  readonly handshakeTimeoutMs: number;
}

/**
 * The hub's heartbeat (internal to the hub): one timer for the hub rather than several per
 * connection, which pings idle connections and closes those past the handshake or client timeout.
 */
export class KeepAlive {
  readonly #timings: KeepAliveTimings;
  readonly #connections: () => Iterable<HubConnection>;
  readonly #fail: (connection: HubConnection, error: string) => void;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  /**
   * @param connections the connections to sweep, read on every beat
   * @param fail closes a connection with an error
   */
  constructor(timings: KeepAliveTimings, connections: () => Iterable<HubConnection>, fail: (connection: HubConnection, error: string) => void) {
    this.#timings = timings;
    this.#connections = connections;
    this.#fail = fail;
  }

  /** Starts beating, unless it already does; the timer never keeps the process alive. */
  start(): void {
    if (this.#heartbeat !== undefined) return;
    const {keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs} = this.#timings;
    const tick = Math.max(10, Math.min(1000, keepAliveIntervalMs / 2, clientTimeoutMs / 4, handshakeTimeoutMs / 4));
    this.#heartbeat = setInterval(() => this.#beat(Date.now()), tick);
    this.#heartbeat.unref();
  }

  /** Stops beating. */
  stop(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** One sweep over all connections. */
  #beat(now: number): void {
    const {handshakeTimeoutMs, keepAliveIntervalMs, clientTimeoutMs} = this.#timings;
    for (const c of this.#connections()) {
      if (c.phase === 'handshake') {
        if (now - c.openedAt > handshakeTimeoutMs) this.#fail(c, 'Handshake was canceled: no handshake within the timeout.');
      } else if (c.phase === 'open' && !c.inherentKeepAlive && !c.detached) {
        if (c.sentSinceBeat) {
          c.lastSentAt = now;
          c.sentSinceBeat = false;
        }
        // Not reading it is the hub's doing: its pings wait unread too.
        if (now - c.lastReceivedAt > clientTimeoutMs && !c.receivePaused) {
          this.#fail(c, 'Server timeout elapsed without receiving a message from the client.');
        } else if (now - c.lastSentAt >= keepAliveIntervalMs) {
          c.send({type: MessageType.Ping});
        }
      }
    }
  }
}
