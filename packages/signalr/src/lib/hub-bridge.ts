import {HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection} from '@microsoft/signalr';
import {overlaps, SeenIds, type Bus, type TypePattern} from '@switchboard/bus';
import {HubMethods, HubTargets, type Envelope, type SubscribeResult, type TopicEvent} from '@switchboard/contracts';
import {expiresWithin, type AccessTokenFactory} from './access-token.js';
import {connectFailure, type ConnectFailure} from './auth-failure.js';
import type {ConnectionState, ConnectionStatus, HubBridgeOptions, TopicWatcher} from './bridge-types.js';
import {sendCommand} from './commands.js';
import {OfflineError} from './errors.js';
import {Outbox, type OutboxEntry} from './outbox.js';
import {retryDelay, type ReconnectOptions} from './retry-policy.js';
import {ConnectionChanged, TopicTruncated} from './system-contracts.js';

export type {ConnectionState, ConnectionStatus, HubBridgeOptions, TopicWatcher, TransportName} from './bridge-types.js';


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
  readonly #fromHub = new SeenIds(REMEMBERED);
  readonly #outbox: Outbox;
  /** Topics joined on the current connection, with the hub's answer. */
  readonly #joined = new Map<string, SubscribeResult>();
  readonly #watchers = new Map<string, Set<TopicWatcher>>();
  /** Topics the page's subscribers want now (by interest). */
  readonly #wanted = new Set<string>();
  readonly #log: (level: 'info' | 'warn', line: string) => void;
  readonly #reconnect: ReconnectOptions;
  readonly #commandWaitMs: number;
  /** The retry the client is about to make, as its retry policy last computed it. */
  #retry: {attempt: number; retryInMs: number; reason?: string} | undefined;
  /** What the token factory threw in the current connect attempt (cleared when it gives a token). */
  #tokenError: unknown;
  #stopped = false;
  /** The client's retry policy gave up: the bridge is offline until started again. */
  #gaveUp = false;
  /** The bridge's own connect loop runs (first connect, or after the server closed the connection). */
  #looping = false;
  readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  readonly #storageKey: string;
  readonly #stored: Record<string, string>;
  readonly #statusListeners = new Set<(state: ConnectionState) => void>();
  readonly #stops: Array<() => void> = [];
  #state: ConnectionState = {status: 'disconnected'};
  #starting: Promise<void> | undefined;
  #saveQueued = false;
  readonly #tokenFactory: AccessTokenFactory | undefined;
  /** The token last obtained from the factory, reused by {@link HubBridge.fetch} until refused. */
  #token: string | undefined;

  constructor(options: HubBridgeOptions) {
    this.url = options.url;
    this.#bus = options.bus;
    this.#topics = options.topics ?? {};
    this.#storage = 'storage' in options ? options.storage : typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
    this.#storageKey = `switchboard:offsets:${options.url}`;
    this.#stored = this.#load();
    this.#bus.register(ConnectionChanged, TopicTruncated);
    this.#outbox = new Outbox(options.outbox);
    this.#reconnect = options.reconnect ?? {};
    this.#commandWaitMs = options.commandWaitMs ?? 10_000;
    this.#tokenFactory = options.connection === undefined ? options.accessTokenFactory : undefined;
    this.#log = options.log === false ? () => {} : (options.log ?? ((level, line) => console[level](line)));
    this.#build =
      options.connection === undefined
        ? () => {
            let built: HubConnection | undefined;
            const connection = new HubConnectionBuilder()
              .withUrl(options.url, {
                ...(options.transport === undefined ? {} : {transport: HttpTransportType[options.transport]}),
                ...(this.#tokenFactory === undefined ? {} : {accessTokenFactory: () => this.#freshToken()}),
              })
              .withAutomaticReconnect({nextRetryDelayInMilliseconds: (ctx) => this.#nextRetry(built, ctx.previousRetryCount + 1, ctx.retryReason)})
              .withStatefulReconnect()
              .configureLogging(options.logLevel ?? LogLevel.None)
              .build();
            built = connection;
            return connection;
          }
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
      this.#stops.push(this.#bus.handle(command, (envelope) => this.#command(envelope)));
    }
    if (Object.keys(this.#topics).length > 0) this.#stops.push(this.#bus.onInterest((patterns) => this.#followInterest(patterns)));
  }

  /** The bus that server events are delivered into. */
  get bus(): Bus {
    return this.#bus;
  }

  /** The underlying connection (a new one after the bridge had to replace a broken one). */
  get connection(): HubConnection {
    return this.#connection;
  }

  /** The connection's status now. */
  get status(): ConnectionStatus {
    return this.#state.status;
  }

  /** The connection's status now, with the retry in progress. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Calls `listener` with the current status and every change; returns a function that stops it. */
  onStatus(listener: (status: ConnectionStatus, state: ConnectionState) => void): () => void {
    const wrapped = (state: ConnectionState): void => listener(state.status, state);
    this.#statusListeners.add(wrapped);
    wrapped(this.#state);
    return () => this.#statusListeners.delete(wrapped);
  }

  /**
   * Connects (once; later calls return the same promise), then subscribes every followed topic. A
   * failed first connect is retried like a lost connection (`reconnecting`, attempt n); the promise
   * rejects only when the bridge gives up (`offline`) or is stopped.
   */
  start(): Promise<void> {
    this.#stopped = false;
    this.#gaveUp = false;
    this.#starting ??= (async () => {
      this.#setState({status: 'connecting'});
      try {
        await this.#connectWithRetries();
      } catch (error) {
        this.#starting = undefined;
        throw error;
      }
      this.#startWatchdog();
      await this.#afterConnect();
    })();
    return this.#starting;
  }

  /** Starts the connection, retrying by the reconnect policy (`reconnecting`, attempt n) until it works or the policy gives up (`offline`). */
  async #connectWithRetries(): Promise<void> {
    this.#looping = true;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.connection.start();
          break;
        } catch (error) {
          const failure = connectFailure(error, this.#tokenError);
          const reason = failure === undefined ? {} : {reason: failure.reason};
          const wait = this.#stopped ? null : this.#retryWait(attempt, failure);
          if (wait === null) {
            this.#gaveUp = !this.#stopped;
            this.#setState(this.#stopped ? {status: 'disconnected'} : {status: 'offline', ...reason});
            throw error;
          }
          this.#setState({status: 'reconnecting', attempt, retryInMs: wait, ...reason});
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      this.#looping = false;
    }
    this.#retry = undefined;
    this.#setState({status: 'connected'});
  }

  /**
   * Hands `watcher` every event of `topic` with its offset, and tells it each time the topic is
   * (re)joined; the topic is followed while watched. The projection helper is built on this.
   * Returns a function that stops watching.
   */
  watch(topic: string, watcher: TopicWatcher): () => void {
    let set = this.#watchers.get(topic);
    if (set === undefined) this.#watchers.set(topic, (set = new Set()));
    set.add(watcher);
    const joined = this.#joined.get(topic);
    if (joined !== undefined) queueMicrotask(() => set.has(watcher) && watcher.subscribed?.(joined));
    else void this.#follow(topic).catch(() => {});
    return () => {
      set.delete(watcher);
      if (set.size > 0) return;
      this.#watchers.delete(topic);
      if (!this.#pinned.has(topic) && !this.#wanted.has(topic)) void this.#unfollow(topic).catch(() => {});
    };
  }

  /**
   * Resolves after one round trip to the hub on the current connection (a `subscribe` of an
   * already joined topic from no offset, which replays nothing): every event of `topic` the server
   * had appended before this call has been delivered by then. Rejects when not connected.
   */
  async barrier(topic: string): Promise<SubscribeResult> {
    if (this.connection.state !== HubConnectionState.Connected) throw new OfflineError('not connected');
    return this.connection.invoke<SubscribeResult>(HubMethods.subscribe, topic, null);
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

  /**
   * What the bridge holds now, for leak checks: topics followed (by interest, watch or follow),
   * topics pinned by {@link HubBridge.follow}, watchers over all topics, commands waiting in the outbox.
   */
  stats(): {readonly following: number; readonly pinned: number; readonly watchers: number; readonly outbox: number} {
    let watchers = 0;
    for (const set of this.#watchers.values()) watchers += set.size;
    return {following: this.#offsets.size, pinned: this.#pinned.size, watchers, outbox: this.#outbox.size};
  }

  /** The offset of the last event received on `topic`, or `null`. */
  offset(topic: string): string | null {
    return this.#offsets.get(topic) ?? null;
  }

  /**
   * `fetch` for the hub's HTTP API (read models, the topics API), with the bridge's access token as
   * `Authorization: Bearer` when it has an `accessTokenFactory`: the connection's latest token, or a
   * fresh one from the factory when that one (a JWT) expires within 5 s. A `401` answer gets one
   * retry with a fresh token. Without a factory it is plain `fetch`.
   *
   * ```ts
   * const response = await hub.fetch('/api/orders', {signal}); // Authorization: Bearer <token>
   * ```
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    if (this.#tokenFactory === undefined) return fetch(input, init);
    const cached = this.#token !== undefined && !expiresWithin(this.#token, 5000) ? this.#token : undefined;
    const send = (token: string): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (token !== '') headers.set('authorization', `Bearer ${token}`);
      return fetch(input, {...init, headers});
    };
    const response = await send(cached ?? (await this.#freshToken()));
    if (response.status !== 401 || cached === undefined) return response;
    await response.body?.cancel();
    return send(await this.#freshToken());
  }

  /** Asks the factory for a token and keeps it for {@link HubBridge.fetch}; remembers why it failed, for the status. */
  async #freshToken(): Promise<string> {
    this.#tokenError = undefined;
    try {
      const token = await this.#tokenFactory!();
      this.#token = token;
      return token;
    } catch (error) {
      this.#tokenError = error;
      throw error;
    }
  }

  /**
   * The wait before attempt `attempt` (`null`: give up): the policy's, but never shorter than
   * `refusedDelayMs` after the page's credentials were refused, since the same attempt soon would
   * be refused again, and each one costs the token endpoint and the hub a request.
   */
  #retryWait(attempt: number, failure: ConnectFailure | undefined): number | null {
    const wait = retryDelay(attempt, this.#reconnect);
    if (wait === null || failure?.refused !== true) return wait;
    return Math.max(wait, this.#reconnect.refusedDelayMs ?? 30_000);
  }

  /** Closes the connection and stops bridging. */
  async stop(): Promise<void> {
    this.#stopped = true;
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
    connection.onreconnecting(() => {
      if (!current()) return;
      this.#joined.clear();
      this.#setState({status: 'reconnecting', ...this.#retry});
    });
    connection.onreconnected(() => {
      if (!current()) return;
      this.#retry = undefined;
      this.#setState({status: 'connected'});
      void this.#afterConnect();
    });
    connection.onclose(() => {
      if (!current()) return;
      this.#joined.clear();
      if (this.#stopped || this.#gaveUp) {
        this.#setState({status: this.#stopped ? 'disconnected' : 'offline'});
        return;
      }
      // Closed by the server without inviting a reconnect (it shut down, e.g. for a restart): the
      // page still wants the connection, so the bridge retries by the same policy.
      if (this.#starting === undefined || this.#looping) return;
      void this.#connectWithRetries().then(
        () => this.#afterConnect(),
        () => {},
      );
    });
  }

  /** The client's retry policy: remembers the coming attempt (and why the last failed) so the status can say it. */
  #nextRetry(connection: HubConnection | undefined, attempt: number, lastError: unknown): number | null {
    // The first retry follows a lost connection, not a refused attempt: the token factory's last error is stale.
    const failure = attempt === 1 ? undefined : connectFailure(lastError, this.#tokenError);
    const wait = this.#retryWait(attempt, failure);
    if (connection !== this.#connection) return wait;
    this.#gaveUp = wait === null;
    this.#retry = wait === null ? undefined : {attempt, retryInMs: wait, ...(failure === undefined ? {} : {reason: failure.reason})};
    if (wait !== null && this.#state.status === 'reconnecting') this.#setState({status: 'reconnecting', ...this.#retry!});
    if (wait === null && failure !== undefined) this.#setState({status: 'offline', reason: failure.reason});
    return wait;
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
      const broken =
        (state === HubConnectionState.Connected && connectionId === null) ||
        (state === HubConnectionState.Disconnected && this.#starting !== undefined && !this.#looping && !this.#gaveUp);
      if (broken) void this.#replace();
    }, 2000);
    (this.#watchdog as {unref?: () => void}).unref?.();
  }

  async #replace(): Promise<void> {
    if (this.#replacing || this.#build === undefined) return;
    this.#replacing = true;
    const broken = this.#connection;
    this.#joined.clear();
    this.#setState({status: 'reconnecting'});
    this.#connection = this.#build();
    this.#wire(this.#connection);
    void broken.stop().catch(() => {});
    try {
      await this.#connection.start();
      this.#setState({status: 'connected'});
      await this.#afterConnect();
    } catch {
      // The watchdog tries again in 2 s: still retrying, not given up.
      this.#setState({status: 'reconnecting'});
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
    this.#joined.delete(topic);
    if (this.connection.state === HubConnectionState.Connected) await this.connection.invoke(HubMethods.unsubscribe, topic);
  }

  #followInterest(patterns: ReadonlySet<string>): void {
    for (const [topic, types] of Object.entries(this.#topics)) {
      const wanted = [...patterns].some((p) => types.some((t) => overlaps(p, t)));
      if (wanted) this.#wanted.add(topic);
      else this.#wanted.delete(topic);
      if (wanted && !this.#offsets.has(topic)) void this.#follow(topic).catch(() => {});
      else if (!wanted && this.#offsets.has(topic) && !this.#pinned.has(topic) && !this.#watchers.has(topic)) void this.#unfollow(topic).catch(() => {});
    }
  }

  async #subscribe(topic: string): Promise<SubscribeResult> {
    const from = this.#offsets.get(topic) ?? null;
    let result: SubscribeResult;
    try {
      result = await this.connection.invoke<SubscribeResult>(HubMethods.subscribe, topic, from);
    } catch (error) {
      // Connected, yet the hub refuses the offset: it is another hub's, or one from before a restart.
      // Start at the head, and say events may have been missed, so read models reload.
      // Only for that refusal: a subscribe lost with its connection resumes from its offset as usual.
      if (from === null || this.connection.state !== HubConnectionState.Connected || !/offset/i.test((error as Error).message)) throw error;
      this.#offsets.set(topic, null);
      const fresh = await this.connection.invoke<SubscribeResult>(HubMethods.subscribe, topic, null);
      result = {...fresh, truncated: true};
      if (fresh.offset !== null) this.#setOffset(topic, fresh.offset);
    }
    // An empty page starts at the head; a resumed one keeps the offset of what it last received.
    if (this.#offsets.get(topic) === null && result.offset !== null && from === null) this.#setOffset(topic, result.offset);
    if (result.truncated && from !== null) {
      this.#bus.publish(TopicTruncated, {topic, fromOffset: from, offset: result.offset}, {source: 'switchboard:hub'});
    }
    if (this.#offsets.has(topic) && !this.#joined.has(topic)) {
      this.#joined.set(topic, result);
      for (const watcher of [...(this.#watchers.get(topic) ?? [])]) watcher.subscribed?.(result);
    }
    return result;
  }

  async #afterConnect(): Promise<void> {
    await Promise.all([...this.#offsets.keys()].map((topic) => this.#subscribe(topic).catch(() => undefined)));
    this.#flush();
  }

  #forward(topic: string, envelope: Envelope): void {
    if (this.#fromHub.has(envelope.id)) return;
    this.#outbox.push({topic, envelope});
    // Everything published in this turn leaves together, within the outbox's bounds.
    if (this.#outbox.size === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const connected = (): boolean => this.connection.state === HubConnectionState.Connected;
    void this.#outbox.flush((entry) => this.#publish(entry), connected).then(() => {
      // What was queued while a batch was out goes next; what waits for a connection goes after reconnecting.
      if (this.#outbox.size > 0 && connected()) this.#flush();
    });
  }

  /** Publishes one page event; rejects only when the connection was lost before the hub answered. */
  async #publish({topic, envelope}: OutboxEntry): Promise<void> {
    const connection = this.connection;
    const id = connection.connectionId;
    try {
      // The server keeps one event per id, so a retry after a lost answer cannot double it.
      await connection.invoke(HubMethods.publish, topic, envelope);
    } catch (error) {
      if (connection !== this.connection || connection.state !== HubConnectionState.Connected || connection.connectionId !== id) throw error;
      this.#log('warn', `switchboard: the hub refused ${envelope.type} on "${topic}": ${(error as Error).message}`);
    }
  }

  /** Sends a command: see {@link sendCommand}. */
  #command(envelope: Envelope): Promise<unknown> {
    return sendCommand(
      {
        connection: () => this.connection,
        state: () => this.#state,
        onState: (listener) => {
          this.#statusListeners.add(listener);
          return () => this.#statusListeners.delete(listener);
        },
      },
      envelope,
      this.#commandWaitMs,
    );
  }

  #receive({topic, offset, event}: TopicEvent): void {
    if (!this.#offsets.has(topic)) return;
    for (const watcher of [...(this.#watchers.get(topic) ?? [])]) watcher.event?.({topic, offset, event});
    this.#setOffset(topic, offset);
    // A followed topic also carries types nobody on this page registered (a feed follows `orders`
    // for order.placed, and payments travel there too): not interesting here, and not an error.
    const type = (event as {type?: unknown} | null)?.type;
    if (typeof type === 'string' && !this.#bus.registry.has(type)) return;
    const id = (event as {id?: unknown} | null)?.id;
    if (typeof id === 'string') this.#fromHub.add(id);
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

  #setState(state: ConnectionState): void {
    const before = this.#state;
    const same = state.status === before.status && state.attempt === before.attempt && state.retryInMs === before.retryInMs && state.reason === before.reason;
    if (same) return;
    this.#state = state;
    const why = state.reason === undefined ? '' : `: ${state.reason}`;
    if (state.status === 'reconnecting' && state.attempt !== undefined) {
      this.#log('warn', `switchboard: ${this.url} reconnecting (attempt ${state.attempt}, next try in ${(state.retryInMs! / 1000).toFixed(1)} s)${why}`);
    } else if (state.status === 'offline') {
      this.#log('warn', `switchboard: ${this.url} offline: gave up reconnecting${why}`);
    } else if (state.status === 'connected' && before.status === 'reconnecting') {
      this.#log('info', `switchboard: ${this.url} connected again`);
    }
    for (const listener of [...this.#statusListeners]) listener(state);
    this.#bus.publish(ConnectionChanged, {url: this.url, ...state}, {source: 'switchboard:hub'});
  }
}
