import type {Principal} from '../transports/authenticator.js';
import type {Appender} from './appender.js';
import {globMatcher, matchesAny} from './glob.js';
import {grantsOf} from './grants.js';

/**
 * Who may do something on a topic: `anyone` (also anonymous), `authenticated` (any verified
 * principal), `granted` (a principal whose token grants this topic: see {@link grantsOf}), `nobody`.
 */
export type Permission = 'anyone' | 'authenticated' | 'granted' | 'nobody';

/**
 * What clients may do on a topic, in the style of Azure Web PubSub roles and Centrifugo channel
 * permissions. Server code (`EventService.append`) is never limited by a policy.
 *
 * ```ts
 * const orders: TopicPolicy = {subscribe: 'anyone', publish: [], serverOwned: ['order.*', 'payment.*']};
 * ```
 */
export interface TopicPolicy {
  /** `reject` (default): refuse types no contract describes; `accept`: store and push them after checking the envelope only. */
  readonly unknownTypes?: 'accept' | 'reject';
  /** Who may subscribe (and read the topic's history over HTTP); default `anyone`. */
  readonly subscribe?: Permission;
  /** Event types (globs such as `cart.*`) clients may publish here; default `['*']`; `[]` allows none. */
  readonly publish?: readonly string[];
  /** Who may publish the `publish` types; default `anyone`. */
  readonly publishers?: Permission;
  /** Types (globs) only server code appends here; refused to every client, granted or not. */
  readonly serverOwned?: readonly string[];
}

/** An authorization answer: allowed, or refused with a message naming the rule. */
export type Decision = {readonly allowed: true} | {readonly allowed: false; readonly reason: string};

const ALLOWED: Decision = {allowed: true};

interface Rule {
  readonly name: string;
  readonly policy: TopicPolicy;
  /** The topic's owner when the rule's name has `{sub}`: the user id it captured. */
  readonly match: (topic: string) => {owner: string | undefined} | undefined;
}

/** Options of {@link TopicAuthorizer}. */
export interface TopicAuthorizerOptions {
  /**
   * Policies by topic: an exact name (`orders`), a glob (`audit.*`), or a user-limited pattern
   * (`orders:user-{sub}`: only the principal whose user id fills `{sub}` may use the topic).
   * Exact names win; patterns are tried in the order given; `defaultTopic` covers the rest.
   */
  readonly topics?: Readonly<Record<string, TopicPolicy>>;
  readonly defaultTopic?: TopicPolicy;
  /** Types (globs) only server code appends, on every topic. */
  readonly serverOwned?: readonly string[];
}

/** Decides, from the topic policies, who may subscribe to a topic and who may publish which types on it. */
export class TopicAuthorizer {
  readonly #exact = new Map<string, TopicPolicy>();
  readonly #patterns: Rule[] = [];
  readonly #default: Rule;
  readonly #serverOwned: readonly string[];

  constructor(options: TopicAuthorizerOptions = {}) {
    for (const [name, policy] of Object.entries(options.topics ?? {})) {
      if (!name.includes('*') && !name.includes('{sub}')) this.#exact.set(name, policy);
      else this.#patterns.push({name, policy, match: patternOf(name)});
    }
    this.#default = {name: 'default', policy: options.defaultTopic ?? {}, match: () => ({owner: undefined})};
    this.#serverOwned = options.serverOwned ?? [];
  }

  /** The policy that governs `topic`. */
  policy(topic: string): TopicPolicy {
    return this.#rule(topic).rule.policy;
  }

  /** Whether `principal` (undefined: anonymous) may subscribe to `topic` or read its history. */
  canSubscribe(topic: string, principal: Principal | undefined): Decision {
    const {rule, owner} = this.#rule(topic);
    return this.#owns(topic, owner, principal) ?? this.#permits(rule, 'subscribe', rule.policy.subscribe ?? 'anyone', topic, principal);
  }

  /** Whether `appender` may append an event of `type` to `topic`. Server code always may. */
  canPublish(topic: string, type: string, appender: Appender): Decision {
    if (appender.kind === 'server') return ALLOWED;
    const {rule, owner} = this.#rule(topic);
    const owned = [...this.#serverOwned, ...(rule.policy.serverOwned ?? [])].find((p) => globMatcher(p)(type));
    if (owned !== undefined) return refuse(`"${type}" is server-owned (rule "${owned}"): only the server appends it`);
    const principal = appender.principal;
    const notOwner = this.#owns(topic, owner, principal);
    if (notOwner !== undefined) return notOwner;
    const audience = this.#permits(rule, 'publish', rule.policy.publishers ?? 'anyone', topic, principal);
    if (!audience.allowed) return audience;
    const types = rule.policy.publish ?? ['*'];
    if (!matchesAny(types, type)) {
      const allowed = types.length === 0 ? 'no types' : types.map((t) => `"${t}"`).join(', ');
      return refuse(`"${type}" may not be published on topic "${topic}": policy "${rule.name}" lets clients publish ${allowed}`);
    }
    return ALLOWED;
  }

  /**
   * Whether `appender` may publish anything at all on `topic` (owner, publishers, a non-empty type
   * list): checked before a body is read or validated, so a refused client costs no validation.
   */
  canPublishOn(topic: string, appender: Appender): Decision {
    if (appender.kind === 'server') return ALLOWED;
    const {rule, owner} = this.#rule(topic);
    const notOwner = this.#owns(topic, owner, appender.principal);
    if (notOwner !== undefined) return notOwner;
    const audience = this.#permits(rule, 'publish', rule.policy.publishers ?? 'anyone', topic, appender.principal);
    if (!audience.allowed) return audience;
    if ((rule.policy.publish ?? ['*']).length === 0) return refuse(`no client may publish on topic "${topic}" (policy "${rule.name}" lets clients publish no types)`);
    return ALLOWED;
  }

  #rule(topic: string): {rule: Rule; owner: string | undefined} {
    const exact = this.#exact.get(topic);
    if (exact !== undefined) return {rule: {name: topic, policy: exact, match: () => ({owner: undefined})}, owner: undefined};
    for (const rule of this.#patterns) {
      const m = rule.match(topic);
      if (m !== undefined) return {rule, owner: m.owner};
    }
    return {rule: this.#default, owner: undefined};
  }

  #owns(topic: string, owner: string | undefined, principal: Principal | undefined): Decision | undefined {
    if (owner === undefined || principal?.userId === owner) return undefined;
    return refuse(`topic "${topic}" belongs to user "${owner}"`);
  }

  #permits(rule: Rule, action: 'subscribe' | 'publish', who: Permission, topic: string, principal: Principal | undefined): Decision {
    const verb = action === 'subscribe' ? 'subscribe to' : 'publish on';
    switch (who) {
      case 'anyone':
        return ALLOWED;
      case 'authenticated':
        return principal !== undefined ? ALLOWED : refuse(`only authenticated clients may ${verb} topic "${topic}" (policy "${rule.name}")`);
      case 'granted':
        return matchesAny(grantsOf(principal)[action], topic)
          ? ALLOWED
          : refuse(`${verb} topic "${topic}" needs a token granting "${action}:${topic}" (policy "${rule.name}")`);
      case 'nobody':
        return refuse(`no client may ${verb} topic "${topic}" (policy "${rule.name}")`);
    }
  }
}

function refuse(reason: string): Decision {
  return {allowed: false, reason};
}

/** Compiles a policy name with `*` and `{sub}` into a matcher that also returns the owner `{sub}` captured. */
function patternOf(name: string): Rule['match'] {
  const parts = name.split('{sub}');
  if (parts.length > 2) throw new TypeError(`topic policy "${name}" may contain "{sub}" once`);
  const toSource = (s: string) => s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const re = new RegExp(`^${parts.map(toSource).join('(.+)')}$`);
  return (topic) => {
    const m = re.exec(topic);
    if (m === null) return undefined;
    return {owner: parts.length === 2 ? m[1] : undefined};
  };
}
