import {isAppHost} from './app-hosts.js';

/** Marks a DOM event already routed by a bus, so nested roots never route it twice (works across bundles). */
const ROUTED = Symbol.for('switchboard.routed');

/**
 * The bus's DOM ingress: listens on every attached root for every registered type and hands each
 * CustomEvent to `route` once, however many roots (or buses, across bundles) it bubbles through.
 */
export class DomIngress {
  readonly #types: () => Iterable<string>;
  readonly #route: (event: CustomEvent) => void;
  readonly #roots = new Set<EventTarget>();
  readonly #listeners = new Map<EventTarget, Map<string, EventListener>>();

  constructor(types: () => Iterable<string>, route: (event: CustomEvent) => void) {
    this.#types = types;
    this.#route = route;
  }

  /** Listens on `root` for every type; returns a function that stops. */
  attach(root: EventTarget): () => void {
    this.#roots.add(root);
    this.#listen(root);
    return () => {
      this.#roots.delete(root);
      for (const [type, listener] of this.#listeners.get(root) ?? []) root.removeEventListener(type, listener);
      this.#listeners.delete(root);
    };
  }

  /** How many DOM listeners the ingress holds, over all roots: for leak checks. */
  get listenerCount(): number {
    let n = 0;
    for (const listeners of this.#listeners.values()) n += listeners.size;
    return n;
  }

  /** How many roots are attached. */
  get rootCount(): number {
    return this.#roots.size;
  }

  /** Starts listening for types registered since, on every attached root. */
  refresh(): void {
    for (const root of this.#roots) this.#listen(root);
  }

  #listen(root: EventTarget): void {
    let listeners = this.#listeners.get(root);
    if (listeners === undefined) this.#listeners.set(root, (listeners = new Map()));
    for (const type of this.#types()) {
      if (listeners.has(type)) continue;
      const listener = (event: Event): void => {
        const marked = event as Event & {[ROUTED]?: true};
        if (marked[ROUTED] || !('detail' in event)) return;
        marked[ROUTED] = true;
        this.#route(event as CustomEvent);
      };
      listeners.set(type, listener);
      root.addEventListener(type, listener);
    }
  }
}

/**
 * The producer of a DOM event: the nearest mounted app host on its composed path (see
 * {@link markAppHost}: the shell marks every app it mounts, so a button deep in a React tree still
 * speaks for its app); else the nearest custom element (`mfe:<tag>`), which is the micro frontend
 * or its component whether its shadow root is open or closed; else the plain element that
 * dispatched it (`dom:<tag>`), else `dom`.
 */
export function sourceOf(event: Event): string {
  const path = event.composedPath();
  for (const node of path) {
    if (isAppHost(node)) return `mfe:${(node as Element).localName}`;
  }
  let plain: string | undefined;
  for (const node of path) {
    const tag = (node as {localName?: unknown}).localName;
    if (typeof tag !== 'string') continue;
    if (tag.includes('-')) return `mfe:${tag}`;
    plain ??= tag;
  }
  return plain === undefined ? 'dom' : `dom:${plain}`;
}
