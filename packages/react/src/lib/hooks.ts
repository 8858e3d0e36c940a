import {pageBus, requestBus, type Bus, type Handler, type RequestOptions, type SubscribeOptions} from '@switchboard/bus';
import type {Contract, EnvelopeOf, InputOf} from '@switchboard/contracts';
import {pageHub, projection, type ConnectionState, type HubBridge, type HubBridgeOptions, type ProjectionOptions} from '@switchboard/signalr';
import {createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';

/**
 * The custom element a React tree is rendered in (set by {@link defineReactElement}): the bus is
 * asked for from it, and what the tree publishes speaks for it (`mfe:<tag>`).
 */
export const HostContext = createContext<HTMLElement | undefined>(undefined);

/** The page bus for this component: the one its host's shell provides, else the page-wide bus. */
export function useBus(): Bus {
  const host = useContext(HostContext);
  return useMemo(() => (host !== undefined && host.isConnected ? requestBus(host) : pageBus()), [host]);
}

/** The `source` of what this component publishes: `mfe:<host tag>` inside a custom element, else `page`. */
export function useSource(): string {
  const host = useContext(HostContext);
  return host === undefined ? 'page' : `mfe:${host.localName}`;
}

/**
 * The page's hub bridge for `url` (one connection per page and hub, shared with the shell and every
 * app; created and started on first use), on this component's bus.
 */
export function useHub(url = '/hubs/events', options: Omit<HubBridgeOptions, 'url' | 'bus'> = {}): HubBridge {
  const bus = useBus();
  // pageHub keeps one bridge per URL: options count only the first time, so they are not a dependency.
  const first = useRef(options);
  return useMemo(() => pageHub(url, bus, first.current), [url, bus]);
}

/** Subscription options the hook passes on; `signal` is the component's own. */
export type HookSubscribeOptions = Omit<SubscribeOptions, 'signal'>;

/**
 * Calls `handler` for every event of `target` (a contract, a type, `order.*`) while the component
 * is mounted; the subscription ends when it unmounts. The latest `handler` is called, so it may
 * close over state without resubscribing.
 *
 * ```tsx
 * useEvent(OrderShipped, (e) => setShipped((list) => [e.data.orderId, ...list]));
 * ```
 */
export function useEvent<C extends Contract>(target: C, handler: Handler<EnvelopeOf<C>>, options?: HookSubscribeOptions): void;
export function useEvent(target: string, handler: Handler, options?: HookSubscribeOptions): void;
export function useEvent(target: Contract | string, handler: Handler<never>, options: HookSubscribeOptions = {}): void {
  const bus = useBus();
  const source = useSource();
  const latest = useRef(handler);
  latest.current = handler;
  const pattern = typeof target === 'string' ? target : `${target.type}@${target.version}`;
  const {once, replay, retry, name} = options;
  useEffect(() => {
    const abort = new AbortController();
    const call = ((e: never) => (latest.current as (e: never) => unknown)(e)) as Handler;
    const opts = {signal: abort.signal, name: name ?? source, ...(once === undefined ? {} : {once}), ...(replay === undefined ? {} : {replay}), ...(retry === undefined ? {} : {retry})};
    if (typeof target === 'string') bus.subscribe(target, call, opts);
    else bus.subscribe(target, call, opts);
    return () => abort.abort();
    // The pattern string stands for the target; a new contract object of the same type and version is the same subscription.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [bus, pattern, source, once, replay, retry, name]);
}

/** A function that sends a request, abandoned (rejecting with an `AbortError`) when the component unmounts. */
export type Requester<C extends Contract, R> = (data: InputOf<C>, options?: Omit<RequestOptions, 'signal'>) => Promise<R>;

function useAbortOnUnmount(): () => AbortSignal {
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    const controller = (abort.current = new AbortController());
    return () => controller.abort(new DOMException('the component unmounted', 'AbortError'));
  }, []);
  return useCallback(() => (abort.current ??= new AbortController()).signal, []);
}

/**
 * A function sending requests of `contract` with this component as the source; what is still
 * waiting for its answer when the component unmounts is abandoned, so nothing stays pending.
 */
export function useRequest<C extends Contract, R = unknown>(contract: C, defaults: Omit<RequestOptions, 'signal'> = {}): Requester<C, R> {
  const bus = useBus();
  const source = useSource();
  const signal = useAbortOnUnmount();
  const base = useRef(defaults);
  base.current = defaults;
  return useCallback<Requester<C, R>>(
    (data, options = {}) => bus.request<C, R>(contract, data, {source, ...base.current, ...options, signal: signal()}),
    [bus, contract, source, signal],
  );
}

/**
 * A function sending the command `contract` (to the server, through the hub bridge, or to its
 * handler on the page), resolving with the handler's answer; abandoned when the component unmounts.
 *
 * ```tsx
 * const restock = useCommand(Restock);
 * <button onClick={() => void restock({sku: 'tea-assam', quantity: 10})}>Restock</button>
 * ```
 */
export function useCommand<C extends Contract>(contract: C, defaults: Omit<RequestOptions, 'signal'> = {}): Requester<C, unknown> {
  return useRequest<C, unknown>(contract, defaults);
}

/** What {@link useProjection} needs: a projection's options without the hub, the state callback and the signal. */
export type ProjectionHookOptions<S> = Omit<ProjectionOptions<S>, 'hub' | 'onState' | 'signal'> & {readonly hub?: HubBridge};

/**
 * A read model kept in the component: a server snapshot continued by the topics' events (see
 * `projection` in `@switchboard/signalr`); `undefined` until the first snapshot. Stopped on unmount.
 * `snapshot` and `apply` are read when the projection starts; change `topics` to start another.
 */
export function useProjection<S>(options: ProjectionHookOptions<S>): S | undefined {
  const fallbackHub = useHub();
  const hub = options.hub ?? fallbackHub;
  const [state, setState] = useState<S | undefined>(undefined);
  const latest = useRef(options);
  latest.current = options;
  const topics = options.topics.join('\u0000');
  useEffect(() => {
    const {snapshot, apply, onError} = latest.current;
    const running = projection<S>({hub, topics: topics.split('\u0000'), snapshot, apply, onState: setState, ...(onError === undefined ? {} : {onError})});
    return () => running.stop();
  }, [hub, topics]);
  return state;
}

/** The hub connection's state, re-rendering on every change (connected, reconnecting with its attempt, offline). */
export function useConnectionState(hub?: HubBridge): ConnectionState {
  const fallbackHub = useHub();
  const bridge = hub ?? fallbackHub;
  const subscribe = useCallback((notify: () => void) => bridge.onStatus(() => notify()), [bridge]);
  return useSyncExternalStore(subscribe, () => bridge.state, () => bridge.state);
}
