import {HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection} from '@microsoft/signalr';
import type {Bus} from '@switchboard/bus';

/** What the hub's `subscribe` returns (ARCHITECTURE.md §5). */
export interface SubscribeResult {
  readonly topic: string;
  /** The topic's head at subscribe time; `null` for an empty topic. */
  readonly offset: string | null;
  /** True when events after the requested offset were already dropped by retention. */
  readonly truncated: boolean;
}

/** The server → client `event` message: one event of a subscribed topic. */
export interface TopicEvent {
  readonly topic: string;
  readonly offset: string;
  readonly event: unknown;
}

/** A transport the page may insist on; by default the client picks the best the server offers. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** Where the page's hub connection stands. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Options of {@link HubBridge}. */
export interface HubBridgeOptions {
  /** The hub's URL, e.g. `https://shop.example/hubs/events`. */
  readonly url: string;
  /** The bus that server events are delivered into. */
  readonly bus: Bus;
  /** Use only this transport (for pages behind proxies that break WebSockets, and for tests). */
  readonly transport?: TransportName;
  /** A connection built by the caller (protocol, logging, tokens); built from `url` when omitted. */
  readonly connection?: HubConnection;
}

/**
 * Bridges server topics into a bus over one `@microsoft/signalr` connection.
 *
 * Each followed topic is subscribed on the hub; its events enter the bus through
 * {@link Bus.ingest}, validated at this trust boundary. The last offset of every topic is kept, and
 * after an automatic reconnect each topic is subscribed again from it, so the hub replays what was
 * missed.
 *
 * ```ts
 * const hub = new HubBridge({url: '/hubs/events', bus});
 * await hub.start();
 * await hub.follow('orders');
 * ```
 */
export class HubBridge {
  /** The underlying connection. */
  readonly connection: HubConnection;
  readonly #bus: Bus;
  /** Followed topics and the offset of the last event received from each (`null`: none yet). */
  readonly #offsets = new Map<string, string | null>();
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();
  #status: ConnectionStatus = 'disconnected';
  #starting: Promise<void> | undefined;

  constructor(options: HubBridgeOptions) {
    this.#bus = options.bus;
    this.connection =
      options.connection ??
      new HubConnectionBuilder()
        .withUrl(options.url, options.transport === undefined ? {} : {transport: HttpTransportType[options.transport]})
        .withAutomaticReconnect()
        .configureLogging(LogLevel.Warning)
        .build();
    this.connection.on('event', (message: TopicEvent) => this.#receive(message));
    this.connection.onreconnecting(() => this.#setStatus('reconnecting'));
    this.connection.onreconnected(() => {
      this.#setStatus('connected');
      void this.#resubscribe();
    });
    this.connection.onclose(() => this.#setStatus('disconnected'));
  }

  /** The connection's status now. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Calls `listener` with the current status and every change; returns a function that stops it. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.#statusListeners.add(listener);
    listener(this.#status);
    return () => this.#statusListeners.delete(listener);
  }

  /** Connects (once; later calls return the same promise) and subscribes every followed topic. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      this.#setStatus('connecting');
      try {
        await this.connection.start();
      } catch (error) {
        this.#starting = undefined;
        this.#setStatus('disconnected');
        throw error;
      }
      this.#setStatus('connected');
      await this.#resubscribe();
    })();
    return this.#starting;
  }

  /**
   * Follows `topic`: its events are delivered into the bus from now on, and across reconnects.
   * Resolves with the hub's answer once subscribed (after {@link start}, if it is still pending).
   */
  async follow(topic: string): Promise<SubscribeResult | undefined> {
    if (!this.#offsets.has(topic)) this.#offsets.set(topic, null);
    if (this.connection.state !== HubConnectionState.Connected) return undefined;
    return this.#subscribe(topic);
  }

  /** Stops following `topic`. */
  async unfollow(topic: string): Promise<void> {
    if (!this.#offsets.delete(topic)) return;
    if (this.connection.state === HubConnectionState.Connected) await this.connection.invoke('unsubscribe', topic);
  }

  /** The offset of the last event received on `topic`, or `null`. */
  offset(topic: string): string | null {
    return this.#offsets.get(topic) ?? null;
  }

  /** Closes the connection. */
  async stop(): Promise<void> {
    this.#starting = undefined;
    await this.connection.stop();
  }

  #subscribe(topic: string): Promise<SubscribeResult> {
    return this.connection.invoke<SubscribeResult>('subscribe', topic, this.#offsets.get(topic) ?? null);
  }

  async #resubscribe(): Promise<void> {
    await Promise.all([...this.#offsets.keys()].map((topic) => this.#subscribe(topic)));
  }

  #receive({topic, offset, event}: TopicEvent): void {
    if (!this.#offsets.has(topic)) return;
    this.#offsets.set(topic, offset);
    this.#bus.ingest(event, `hub:${topic}`);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
  }
}
