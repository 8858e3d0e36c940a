import {SeenIds} from '@switchboard/bus';
import type {Envelope, TopicEvent} from '@switchboard/contracts';
import type {HubBridge} from './hub-bridge.js';

/** A read model's state as the server had it, and the offset of the last event it reflects in each topic. */
export interface Snapshot<S> {
  readonly state: S;
  /** Topic → offset of the last event the state includes (`null`: none of that topic). Offsets are opaque. */
  readonly offsets: Readonly<Record<string, string | null>>;
}

/** Options of {@link projection}. */
export interface ProjectionOptions<S> {
  /** The page's hub bridge (e.g. `pageHub(url, bus, options)`). */
  readonly hub: HubBridge;
  /** The topics whose events `apply` folds in; each must have an entry in the snapshot's offsets. */
  readonly topics: readonly string[];
  /** Loads the snapshot, e.g. from a read-model endpoint that answers with its offsets. */
  readonly snapshot: (signal: AbortSignal) => Promise<Snapshot<S>>;
  /** Folds one validated event into the state. Pure: it returns the next state. */
  readonly apply: (state: S, event: Envelope) => S;
  /** Called with every new state: the snapshot's, then one per applied event. */
  readonly onState: (state: S) => void;
  /** Called when a snapshot could not be loaded; the projection retries by itself. */
  readonly onError?: (error: unknown) => void;
  /** Ends the projection. */
  readonly signal?: AbortSignal;
}

/** A running {@link projection}. */
export interface Projection<S> {
  /** The state now; `undefined` until the first snapshot arrived. */
  readonly state: S | undefined;
  /** Resolves with the first state. */
  readonly ready: Promise<S>;
  /** Ends it. */
  stop(): void;
}

/** How many applied event ids are remembered to drop an event delivered twice. */
const REMEMBERED = 5000;

/**
 * A read model in the page that starts from a server snapshot and continues from exactly the
 * offsets it reflects: no gap, and no event applied twice (the CQRS read side, per micro frontend).
 *
 * How it lines the two up without comparing offsets (they are opaque): once every topic is joined
 * on the connection, it starts keeping the topics' events, loads the snapshot (state and offsets),
 * then makes one round trip to the hub ({@link HubBridge.barrier}), after which every event up to
 * the snapshot's offsets has been delivered. Of the kept events, those up to and including the one
 * at the snapshot's offset are already in the state; the rest are applied, in order, and then every
 * live event. Each time the bridge joins the topics again (after a reconnect, a server restart, or
 * retention dropped events it had not seen: `truncated`), the snapshot is loaded again the same way.
 *
 * ```ts
 * projection({
 *   hub: pageHub('/hubs/events', bus, shopHub),
 *   topics: ['orders'],
 *   snapshot: async (signal) => {
 *     const {orders, offsets} = await (await fetch('/api/orders', {signal})).json();
 *     return {state: orders, offsets};
 *   },
 *   apply: (orders, event) => fold(orders, event),
 *   onState: (orders) => render(orders),
 * });
 * ```
 */
export function projection<S>(options: ProjectionOptions<S>): Projection<S> {
  const {hub, topics} = options;
  const registry = hub.bus.registry;
  const joined = new Set<string>();
  let state: S | undefined;
  /** Events kept while a snapshot loads; `undefined` when live events apply at once. */
  let kept: TopicEvent[] | undefined = [];
  let generation = 0;
  let retryMs = 500;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let abort: AbortController | undefined;
  let resolveReady: (s: S) => void = () => {};
  const ready = new Promise<S>((resolve) => (resolveReady = resolve));
  const applied = new SeenIds(REMEMBERED);
  const stops: Array<() => void> = [];
  let scheduled = false;
  // Several topics joining in one turn load once.
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      void load();
    });
  };

  const applyRaw = (entry: TopicEvent): void => {
    if (state === undefined) return;
    const result = registry.validate(entry.event);
    if (!result.ok || applied.has(result.value.id)) return;
    applied.add(result.value.id);
    state = options.apply(state, result.value);
    options.onState(state);
  };

  const load = async (): Promise<void> => {
    clearTimeout(retryTimer);
    if (!topics.every((t) => joined.has(t))) return;
    const mine = ++generation;
    abort?.abort();
    abort = new AbortController();
    // Every event received before this point was appended before the snapshot is made, so it is
    // in the snapshot: dropping it is right.
    kept = [];
    try {
      const snapshot = await options.snapshot(abort.signal);
      if (mine !== generation) return;
      await Promise.all(topics.map((t) => hub.barrier(t)));
      if (mine !== generation) return;
      // Per topic: what came after the event at the snapshot's offset. If that event is not among the
      // kept ones, none of the kept ones is in the snapshot (they arrive in order, without gaps).
      const cut = new Map<string, number>();
      kept.forEach((entry, i) => {
        if (entry.offset === snapshot.offsets[entry.topic]) cut.set(entry.topic, i);
      });
      const rest = kept.filter((entry, i) => i > (cut.get(entry.topic) ?? -1));
      kept = undefined;
      applied.clear();
      state = snapshot.state;
      options.onState(state);
      resolveReady(state);
      for (const entry of rest) applyRaw(entry);
      retryMs = 500;
    } catch (error) {
      if (mine !== generation || options.signal?.aborted) return;
      options.onError?.(error);
      // Not connected: the next join loads again. Connected (the query failed): try again soon.
      if (hub.status === 'connected') {
        retryTimer = setTimeout(() => void load(), retryMs);
        retryMs = Math.min(retryMs * 2, 10_000);
      }
    }
  };

  for (const topic of topics) {
    stops.push(
      hub.watch(topic, {
        event: (entry) => (kept === undefined ? applyRaw(entry) : void kept.push(entry)),
        subscribed: () => {
          joined.add(topic);
          schedule();
        },
      }),
    );
  }
  stops.push(
    hub.onStatus((status) => {
      if (status !== 'connected') joined.clear();
    }),
  );

  const stop = (): void => {
    generation++;
    clearTimeout(retryTimer);
    abort?.abort();
    for (const s of stops.splice(0)) s();
  };
  options.signal?.addEventListener('abort', stop, {once: true});
  return {
    get state() {
      return state;
    },
    ready,
    stop,
  };
}
