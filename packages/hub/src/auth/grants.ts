import type {Principal} from '../transports/authenticator.js';

/** What a principal's token grants beyond what policies give everyone: topic globs to subscribe to and to publish on. */
export interface Grants {
  readonly subscribe: readonly string[];
  readonly publish: readonly string[];
}

const NONE: Grants = {subscribe: [], publish: []};

/**
 * Reads a principal's grants from its claims:
 * - `topics`: topic globs (an array or a space-separated string) granted for subscribe and publish;
 * - `scope`: space-separated `subscribe:<topic-glob>` and `publish:<topic-glob>` entries
 *   (the first `:` splits the verb from the topic, so `subscribe:orders:user-*` works).
 *
 * ```ts
 * grantsOf({userId: 'alice', claims: {scope: 'subscribe:orders publish:cart'}});
 * // {subscribe: ['orders'], publish: ['cart']}
 * ```
 */
export function grantsOf(principal: Principal | undefined): Grants {
  const claims = principal?.claims;
  if (claims === undefined) return NONE;
  const subscribe: string[] = [];
  const publish: string[] = [];
  for (const topic of words(claims['topics'])) subscribe.push(topic), publish.push(topic);
  for (const entry of words(claims['scope'])) {
    const colon = entry.indexOf(':');
    if (colon < 1) continue;
    const verb = entry.slice(0, colon);
    const topic = entry.slice(colon + 1);
    if (topic === '') continue;
    if (verb === 'subscribe') subscribe.push(topic);
    else if (verb === 'publish') publish.push(topic);
  }
  return {subscribe, publish};
}

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/** Whether a principal's `scope` claim (space-separated, or an array) lists `scope`, e.g. `admin`. */
export function hasScope(principal: Principal | undefined, scope: string): boolean {
  return words(principal?.claims?.['scope']).includes(scope);
}
