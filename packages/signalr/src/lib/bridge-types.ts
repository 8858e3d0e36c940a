import type {LogLevel, HubConnection} from '@microsoft/signalr';
import type {Bus, TypePattern} from '@switchboard/bus';
import type {Contract, SubscribeResult, TopicEvent} from '@switchboard/contracts';
import type {AccessTokenFactory} from './access-token.js';
import type {OutboxLimits} from './outbox.js';
import type {ReconnectOptions} from './retry-policy.js';

/** A transport the page may insist on; by default the client picks the best the server offers. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/**
 * Where the page's hub connection stands: `reconnecting` while the bridge still retries (also when
 * the first connect failed), `offline` only once it gave up, `disconnected` after `stop()`.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'disconnected';

/** The connection's status, with the retry in progress while `reconnecting`. */
export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** While reconnecting: which attempt comes next (1 is the first). */
  readonly attempt?: number;
  /** While reconnecting: how long until that attempt, in ms. */
  readonly retryInMs?: number;
  /**
   * Why the last attempt failed, in words for a person, when the token source or the hub said why
   * (e.g. "The page could not get an access token: the token endpoint /auth/token answered 404: …").
   */
  readonly reason?: string;
}

/** What a `HubBridge.watch` caller is told about one topic. */
export interface TopicWatcher {
  /** An event of the topic, raw (not yet validated), in the topic's order, with its offset. */
  event?(entry: TopicEvent): void;
  /**
   * The bridge (re)joined the topic on the current connection: from here on no event of the topic
   * is missed while this connection lasts. Called once per connection (and at once if joined).
   */
  subscribed?(result: SubscribeResult): void;
}

/** Options of `HubBridge`. */
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
  /** How much the SignalR client itself logs to the console; default nothing (the bridge reports its state, one line per change). */
  readonly logLevel?: LogLevel;
  /** Where the bridge writes one line per connection state change; `false` for silence. Default: the console. */
  readonly log?: ((level: 'info' | 'warn', line: string) => void) | false;
  /** How the connection is retried; by default forever, backing off to 10 s. */
  readonly reconnect?: ReconnectOptions;
  /**
   * How long a command sent while the page is not connected waits for the connection before it is
   * refused with {@link OfflineError}; default 10 s. Within it, the command is sent once as soon as
   * the connection is back.
   */
  readonly commandWaitMs?: number;
  /** Bounds of the batches in which queued page events are published; see {@link Outbox}. */
  readonly outbox?: OutboxLimits;
  /**
   * Supplies the access token for hubs that require one: handed to the official client's
   * `accessTokenFactory` (called on every connect and reconnect, so a refreshed token is used), and
   * used by {@link HubBridge.fetch} for the hub's HTTP API. Ignored when `connection` is given.
   */
  readonly accessTokenFactory?: AccessTokenFactory;
  /** A connection built by the caller (protocol, tokens); built from `url` when omitted. */
  readonly connection?: HubConnection;
}
