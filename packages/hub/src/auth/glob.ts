/**
 * A glob over dotted names (`order.*`, `orders:user-*`, `*`): `*` matches any run of characters,
 * everything else matches itself. Compiled once, so checking a name is one regular expression test.
 *
 * ```ts
 * globMatcher('order.*')('order.placed'); // true
 * ```
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern.split('*').map(escape).join('.*');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

/** Whether any of `patterns` matches `name`. */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => globMatcher(p)(name));
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
