/**
 * A glob over dotted names (`order.*`, `orders:user-*`, `*`): `*` matches any run of characters,
 * everything else matches itself. Compiled once, so checking a name is one regular expression test.
 *
 * ```ts
 * globMatcher('order.*')('order.placed'); // true
 * ```
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  let matcher = compiled.get(pattern);
  if (matcher === undefined) {
    // Policies and grants repeat the same few patterns on every publish: compile each once.
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, (matcher = compile(pattern)));
  }
  return matcher;
}

/** Compiled patterns kept; policies and tokens use a handful, so the bound only guards against surprises. */
const MAX_COMPILED = 1000;
const compiled = new Map<string, (name: string) => boolean>();

function compile(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (name) => name === pattern;
  const re = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);
  return (name) => re.test(name);
}

/** Whether any of `patterns` matches `name`. */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => globMatcher(p)(name));
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
