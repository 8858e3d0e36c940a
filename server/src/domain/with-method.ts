/**
 * `target` with one method replaced by `method`, every other member its own (methods bound to
 * `target`): how the services get a bus or an event service scoped to what they are handling,
 * without a wrapper class that would have to follow every member the interface gains.
 */
export function withMethod<T extends object, K extends keyof T>(target: T, name: K, method: T[K]): T {
  return new Proxy(target, {
    get: (t, p) => {
      if (p === name) return method;
      const value = (t as unknown as Record<PropertyKey, unknown>)[p];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
