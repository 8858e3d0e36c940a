/** The `globalThis` key of the page's app hosts; `Symbol.for` so every bundle on the page shares them. */
const APP_HOSTS = Symbol.for('switchboard.app-hosts');

type WithAppHosts = typeof globalThis & {[APP_HOSTS]?: WeakSet<object>};

function hosts(): WeakSet<object> {
  const g = globalThis as WithAppHosts;
  return (g[APP_HOSTS] ??= new WeakSet());
}

/**
 * Marks `element` as a mounted micro frontend's host: DOM events dispatched anywhere inside it
 * (its light DOM, its shadow root, a React or Vue tree it renders) get `mfe:<its tag>` as their
 * source, so per-app publish permissions name the app whatever framework draws it. The shell marks
 * every app it mounts; returns a function that unmarks.
 *
 * ```ts
 * const unmark = markAppHost(document.createElement('shop-order-lookup'));
 * ```
 */
export function markAppHost(element: Element): () => void {
  hosts().add(element);
  return () => hosts().delete(element);
}

/** Whether `node` is a host marked by {@link markAppHost}. */
export function isAppHost(node: unknown): boolean {
  return typeof node === 'object' && node !== null && hosts().has(node);
}
