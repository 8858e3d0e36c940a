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
