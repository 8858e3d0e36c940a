import {HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection} from '@microsoft/signalr';
import {overlaps, type Bus, type TypePattern} from '@switchboard/bus';
import {HubMethods, HubTargets, type Contract, type Envelope, type SubscribeResult, type TopicEvent} from '@switchboard/contracts';
import {ConnectionChanged, TopicTruncated} from './system-contracts.js';

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
  /**
   * Which event types travel on which server topic. The bridge follows a topic while some subscriber
   * on the page wants one of its types, and leaves it when the last one goes.
   */
  readonly topics?: Readonly<Record<string, readonly TypePattern[]>>;
  /** Page events sent to the server: topic → the types published there (events from the hub never go back). */
  readonly publish?: Readonly<Record<string, readonly TypePattern[]>>;
  /** Commands the server handles: `bus.send()` of them becomes the hub's `command`, its result the answer. */
  readonly commands?: readonly Contract[];
  /** Use only this transport (for pages behind proxies that break WebSockets, and for tests). */
  readonly transport?: TransportName;
  /** Where the last offset of every topic is kept across page reloads; `sessionStorage` by default in browsers. */
  readonly storage?: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  /** How much the SignalR client logs to the console; default warnings. */
  readonly logLevel?: LogLevel;
  /** A connection built by the caller (protocol, tokens); built from `url` when omitted. */
  readonly connection?: HubConnection;
}

/** Ids of envelopes that came from the hub, remembered so they are never published back. */
const REMEMBERED = 1000;

/**
 * Bridges server topics and the page bus over one `@microsoft/signalr` connection, losing nothing.
 *
 * Server events enter the bus through {@link Bus.ingest}, validated at this trust boundary and
 * deduplicated by id. The last offset of every topic is kept (in memory and in `sessionStorage`),
 * and every (re)subscribe asks the hub to replay from it, so automatic reconnects and full page
 * reloads resume with no gap and no duplicate; if retention dropped events in between,
 * `switchboard.topic.truncated` is published so apps can resync. With WebSockets, stateful
 * reconnect rides out short drops without even resubscribing. The connection's state is published
 * as `switchboard.connection.changed`.
 *
 * ```ts
 * const hub = new HubBridge({url: '/hubs/events', bus, topics: {orders: ['order.*']}, publish: {orders: ['order.placed']}});
 * await hub.start();
 * ```
 */
export class HubBridge {
  readonly url: string;
  #connection: HubConnection;
  readonly #build: (() => HubConnection) | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #replacing = false;
  readonly #bus: Bus;
  readonly #topics: Readonly<Record<string, readonly TypePattern[]>>;
  /** Followed topics and the offset of the last event received from each (`null`: none yet). */
  readonly #offsets = new Map<string, string | null>();
  /** Topics followed because of explicit follow() calls, which interest never drops. */
  readonly #pinned = new Set<string>();
  readonly #fromHub: string[] = [];
  readonly #fromHubSet = new Set<string>();
  readonly #outbox: Array<{topic: string; envelope: Envelope}> = [];
  readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  readonly #storageKey: string;
  readonly #stored: Record<string, string>;
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();
  readonly #stops: Array<() => void> = [];
  #status: ConnectionStatus = 'disconnected';
  #starting: Promise<void> | undefined;
  #saveQueued = false;

  constructor(options: HubBridgeOptions) {
    this.url = options.url;
    this.#bus = options.bus;
    this.#topics = options.topics ?? {};
    this.#storage = 'storage' in options ? options.storage : typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
    this.#storageKey = `switchboard:offsets:${options.url}`;
    this.#stored = this.#load();
    this.#bus.register(ConnectionChanged, TopicTruncated);
    this.#build =
      options.connection === undefined
        ? () =>
            new HubConnectionBuilder()
              .withUrl(options.url, options.transport === undefined ? {} : {transport: HttpTransportType[options.transport]})
              // At once, then backing off to 10 s: a blip reconnects immediately, an outage is not hammered.
              .withAutomaticReconnect({
                nextRetryDelayInMilliseconds: (ctx) => (ctx.previousRetryCount === 0 ? 0 : Math.min(10_000, 250 * 2 ** Math.min(ctx.previousRetryCount - 1, 6))),
              })
              .withStatefulReconnect()
              .configureLogging(options.logLevel ?? LogLevel.Warning)
              .build()
        : undefined;
    this.#connection = options.connection ?? this.#build!();
    this.#wire(this.#connection);
    for (const [topic, patterns] of Object.entries(options.publish ?? {})) {
      for (const pattern of patterns) {
        this.#stops.push(
          this.#bus.subscribe(pattern, (envelope) => this.#forward(topic, envelope), {name: 'switchboard:hub-bridge', replay: false}),
        );
      }
    }
    for (const command of options.commands ?? []) {
      this.#stops.push(this.#bus.handle(command, (envelope) => this.connection.invoke(HubMethods.command, envelope)));
    }
    if (Object.keys(this.#topics).length > 0) this.#stops.push(this.#bus.onInterest((patterns) => this.#followInterest(patterns)));
  }

  /** The underlying connection (a new one after the bridge had to replace a broken one). */
  get connection(): HubConnection {
    return this.#connection;
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

  /** Connects (once; later calls return the same promise), then subscribes every followed topic. */
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
      this.#startWatchdog();
      await this.#afterConnect();
    })();
    return this.#starting;
  }

  /**
   * Follows `topic` whatever the page's interest: its events are delivered into the bus from now on,
   * and across reconnects. Resolves with the hub's answer once subscribed (if connected).
   */
  async follow(topic: string): Promise<SubscribeResult | undefined> {
    this.#pinned.add(topic);
    return this.#follow(topic);
  }

  /** Stops following `topic`. */
  async unfollow(topic: string): Promise<void> {
    this.#pinned.delete(topic);
    await this.#unfollow(topic);
  }

  /** The topics followed now. */
  get following(): string[] {
    return [...this.#offsets.keys()];
  }

  /** The offset of the last event received on `topic`, or `null`. */
  offset(topic: string): string | null {
    return this.#offsets.get(topic) ?? null;
  }

  /** Closes the connection and stops bridging. */
  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.#starting = undefined;
    await this.connection.stop();
  }

  /** Routes a connection's callbacks to the bridge while it is the current one. */
  #wire(connection: HubConnection): void {
    const current = (): boolean => connection === this.#connection;
    connection.on(HubTargets.event, (message: TopicEvent) => current() && this.#receive(message));
    connection.onreconnecting(() => current() && this.#setStatus('reconnecting'));
    connection.onreconnected(() => {
      if (!current()) return;
      this.#setStatus('connected');
      void this.#afterConnect();
    });
    connection.onclose(() => current() && this.#setStatus('disconnected'));
  }

  /**
   * Guards against a race in the official client: when a transport closes while the client is
   * still starting it, the HubConnection can stay "Connected" with no connection under it (no
   * connectionId, no onclose, and a server timeout that stops nothing), for good. Seen with the
   * Node client over SSE. The bridge notices, replaces the connection with a fresh one and
   * resubscribes every topic from its offset, so nothing is lost. It likewise restarts a
   * connection that ended although the page never stopped it.
   */
  #startWatchdog(): void {
    if (this.#build === undefined || this.#watchdog !== undefined) return;
    this.#watchdog = setInterval(() => {
      const {state, connectionId} = this.#connection;
      // Broken: "Connected" with nothing under it, or stopped although the page never stopped it
      // (a replacement whose start failed).
      const broken = (state === HubConnectionState.Connected && connectionId === null) || (state === HubConnectionState.Disconnected && this.#starting !== undefined);
      if (broken) void this.#replace();
    }, 2000);
    (this.#watchdog as {unref?: () => void}).unref?.();
  }

  async #replace(): Promise<void> {
    if (this.#replacing || this.#build === undefined) return;
    this.#replacing = true;
    const broken = this.#connection;
    this.#setStatus('reconnecting');
    this.#connection = this.#build();
    this.#wire(this.#connection);
    void broken.stop().catch(() => {});
    try {
      await this.#connection.start();
      this.#setStatus('connected');
      await this.#afterConnect();
    } catch {
      this.#setStatus('disconnected');
    } finally {
      this.#replacing = false;
    }
  }

  async #follow(topic: string): Promise<SubscribeResult | undefined> {
    if (!this.#offsets.has(topic)) this.#offsets.set(topic, this.#stored[topic] ?? null);
    if (this.connection.state !== HubConnectionState.Connected) return undefined;
    return this.#subscribe(topic);
  }

  async #unfollow(topic: string): Promise<void> {
    if (!this.#offsets.delete(topic)) return;
    if (this.connection.state === HubConnectionState.Connected) await this.connection.invoke(HubMethods.unsubscribe, topic);
  }

  #followInterest(patterns: ReadonlySet<string>): void {
    for (const [topic, types] of Object.entries(this.#topics)) {
      const wanted = [...patterns].some((p) => types.some((t) => overlaps(p, t)));
      if (wanted && !this.#offsets.has(topic)) void this.#follow(topic).catch(() => {});
      else if (!wanted && this.#offsets.has(topic) && !this.#pinned.has(topic)) void this.#unfollow(topic).catch(() => {});
    }
  }

  async #subscribe(topic: string): Promise<SubscribeResult> {
    const from = this.#offsets.get(topic) ?? null;
    const result = await this.connection.invoke<SubscribeResult>(HubMethods.subscribe, topic, from);
    // An empty page starts at the head; a resumed one keeps the offset of what it last received.
    if (this.#offsets.get(topic) === null && result.offset !== null && from === null) this.#setOffset(topic, result.offset);
    if (result.truncated && from !== null) {
      this.#bus.publish(TopicTruncated, {topic, fromOffset: from, offset: result.offset}, {source: 'switchboard:hub'});
    }
    return result;
  }

  async #afterConnect(): Promise<void> {
    await Promise.all([...this.#offsets.keys()].map((topic) => this.#subscribe(topic).catch(() => undefined)));
    for (const {topic, envelope} of this.#outbox.splice(0)) this.#forward(topic, envelope);
  }

  #forward(topic: string, envelope: Envelope): void {
    if (this.#fromHubSet.has(envelope.id)) return;
    if (this.connection.state !== HubConnectionState.Connected) {
      this.#outbox.push({topic, envelope});
      return;
    }
    // The server keeps one event per id, so a retry after a lost answer cannot double it.
    this.connection.invoke(HubMethods.publish, topic, envelope).catch(() => this.#outbox.push({topic, envelope}));
  }

  #receive({topic, offset, event}: TopicEvent): void {
    if (!this.#offsets.has(topic)) return;
    this.#setOffset(topic, offset);
    const id = (event as {id?: unknown} | null)?.id;
    if (typeof id === 'string') {
      this.#fromHub.push(id);
      this.#fromHubSet.add(id);
      if (this.#fromHub.length > REMEMBERED) this.#fromHubSet.delete(this.#fromHub.shift()!);
    }
    this.#bus.ingest(event, `hub:${topic}`);
  }

  #setOffset(topic: string, offset: string): void {
    this.#offsets.set(topic, offset);
    this.#stored[topic] = offset;
    if (this.#storage === undefined || this.#saveQueued) return;
    // One write per burst of events, not one per event.
    this.#saveQueued = true;
    queueMicrotask(() => {
      this.#saveQueued = false;
      try {
        this.#storage!.setItem(this.#storageKey, JSON.stringify(this.#stored));
      } catch {
        // Storage full or denied: offsets still live in memory for this page's life.
      }
    });
  }

  #load(): Record<string, string> {
    try {
      const raw = this.#storage?.getItem(this.#storageKey);
      const parsed: unknown = raw == null ? {} : JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
    this.#bus.publish(ConnectionChanged, {url: this.url, status}, {source: 'switchboard:hub'});
  }
}
