import {pageBus, requestBus, type Bus, type Handler, type RequestOptions, type SubscribeOptions} from '@switchboard/bus';
import type {Contract, EnvelopeOf, InputOf} from '@switchboard/contracts';
import {pageHub, projection, type ConnectionState, type HubBridge, type HubBridgeOptions, type ProjectionOptions} from '@switchboard/signalr';
import {getCurrentInstance, inject, onScopeDispose, shallowRef, type InjectionKey, type ShallowRef} from 'vue';

/** Provide a bus to a component tree (`app.provide(BusKey, bus)`); without one, the host element's or the page's bus is used. */
export const BusKey: InjectionKey<Bus> = Symbol('switchboard.bus');

/** The custom element host when the component runs inside `defineCustomElement` (Vue 3.5 keeps it on the instance). */
function hostOf(): HTMLElement | undefined {
  const instance = getCurrentInstance() as (ReturnType<typeof getCurrentInstance> & {ce?: HTMLElement; parent?: unknown}) | null;
  let current: {ce?: HTMLElement; parent?: unknown} | null | undefined = instance;
  while (current != null) {
    if (current.ce !== undefined) return current.ce;
    current = current.parent as typeof current;
  }
  return undefined;
}

/** The bus: the one provided under {@link BusKey}, else the one the custom element host's shell answers with, else the page-wide bus. */
export function useBus(): Bus {
  const provided = getCurrentInstance() === null ? undefined : inject(BusKey, undefined);
  if (provided !== undefined) return provided;
  const host = hostOf();
  return host !== undefined && host.isConnected ? requestBus(host) : pageBus();
}

/** `mfe:<host tag>` inside a custom element, else `page`. */
export function useSource(): string {
  const host = hostOf();
  return host === undefined ? 'page' : `mfe:${host.localName}`;
}

/** The page's one hub bridge for `url`, on this component's bus. */
export function useHub(url = '/hubs/events', options: Omit<HubBridgeOptions, 'url' | 'bus'> = {}): HubBridge {
  return pageHub(url, useBus(), options);
}

/**
 * Calls `handler` for every event of `target` until the component (or effect scope) is disposed.
 *
 * ```ts
 * const shipped = ref<string[]>([]);
 * useEvent(OrderShipped, (e) => shipped.value.unshift(e.data.orderId));
 * ```
 */
export function useEvent<C extends Contract>(target: C, handler: Handler<EnvelopeOf<C>>, options?: Omit<SubscribeOptions, 'signal'>): void;
export function useEvent(target: string, handler: Handler, options?: Omit<SubscribeOptions, 'signal'>): void;
export function useEvent(target: Contract | string, handler: Handler<never>, options: Omit<SubscribeOptions, 'signal'> = {}): void {
  const bus = useBus();
  const abort = new AbortController();
  const opts = {name: useSource(), ...options, signal: abort.signal};
  if (typeof target === 'string') bus.subscribe(target, handler as Handler, opts);
  else bus.subscribe(target, handler as Handler, opts);
  onScopeDispose(() => abort.abort());
}

/** A function sending requests of `contract` as this component; what is pending when it is disposed is abandoned. */
export function useRequest<C extends Contract, R = unknown>(contract: C, defaults: Omit<RequestOptions, 'signal'> = {}): (data: InputOf<C>, options?: Omit<RequestOptions, 'signal'>) => Promise<R> {
  const bus = useBus();
  const source = useSource();
  const abort = new AbortController();
  onScopeDispose(() => abort.abort(new DOMException('the component was unmounted', 'AbortError')));
  return (data, options = {}) => bus.request<C, R>(contract, data, {source, ...defaults, ...options, signal: abort.signal});
}

/** A function sending the command `contract`, resolving with its handler's answer; abandoned on dispose. */
export function useCommand<C extends Contract>(contract: C, defaults: Omit<RequestOptions, 'signal'> = {}): (data: InputOf<C>, options?: Omit<RequestOptions, 'signal'>) => Promise<unknown> {
  return useRequest<C, unknown>(contract, defaults);
}

/** A read model as a shallow ref (`undefined` until the first snapshot), stopped on dispose. */
export function useProjection<S>(options: Omit<ProjectionOptions<S>, 'hub' | 'onState' | 'signal'> & {readonly hub?: HubBridge}): ShallowRef<S | undefined> {
  const state = shallowRef<S | undefined>(undefined);
  const running = projection<S>({...options, hub: options.hub ?? useHub(), onState: (s) => (state.value = s)});
  onScopeDispose(() => running.stop());
  return state;
}

/** The hub connection's state as a shallow ref, updated on every change until dispose. */
export function useConnectionState(hub?: HubBridge): ShallowRef<ConnectionState> {
  const bridge = hub ?? useHub();
  const state = shallowRef(bridge.state);
  const stop = bridge.onStatus((_status, s) => (state.value = s));
  onScopeDispose(stop);
  return state;
}
