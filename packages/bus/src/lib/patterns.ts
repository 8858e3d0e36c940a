/**
 * Subscription targets: an exact type (`order.placed`), a prefix wildcard (`order.*`: every type
 * under `order.`), or `*` for everything.
 */
export type TypePattern = string;

/** Whether `pattern` has a wildcard. */
export function isWildcard(pattern: TypePattern): boolean {
  return pattern === '*' || pattern.endsWith('.*');
}

/** A predicate for the types a pattern matches. */
export function matcher(pattern: TypePattern): (type: string) => boolean {
  if (pattern === '*') return () => true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return (type) => type.startsWith(prefix);
  }
  return (type) => type === pattern;
}

/** Whether two patterns can match a common type (`order.*` and `order.placed`, `*` and anything). */
export function overlaps(a: TypePattern, b: TypePattern): boolean {
  if (a === '*' || b === '*') return true;
  const prefixA = isWildcard(a) ? a.slice(0, -1) : undefined;
  const prefixB = isWildcard(b) ? b.slice(0, -1) : undefined;
  if (prefixA !== undefined && prefixB !== undefined) return prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA);
  if (prefixA !== undefined) return b.startsWith(prefixA);
  if (prefixB !== undefined) return a.startsWith(prefixB);
  return a === b;
}
