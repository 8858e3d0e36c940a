import type {Handler, RetryPolicy} from './bus-options.js';
import {isWildcard, matcher} from './patterns.js';

/** One subscriber as the bus keeps it. */
export interface Subscription {
  readonly handler: Handler;
  readonly name: string;
  /** When set, envelopes are delivered as this version (upcast if older, skipped if newer). */
  readonly version: number | undefined;
  readonly once: boolean;
  readonly retry: RetryPolicy | undefined;
  active: boolean;
}

/** The subscribers of one wildcard pattern. */
export interface Wildcard {
  readonly pattern: string;
  readonly matches: (type: string) => boolean;
  list: readonly Subscription[];
}

/**
 * Who subscribed to what: exact types in a map, wildcard patterns in a list, both copy-on-write (a
 * dispatch iterates the array it started with, whatever handlers do), and the interest the page's
 * subscribers express (patterns with at least one subscriber that is not the kit's own).
 */
export class SubscriptionTable {
  readonly #exact = new Map<string, readonly Subscription[]>();
  #wildcards: readonly Wildcard[] = [];
  /** Subscriptions per pattern, not counting the kit's own (named `switchboard:…`). */
  readonly #interest = new Map<string, number>();
  readonly #interestListeners = new Set<(patterns: ReadonlySet<string>) => void>();

  /** The subscribers of exactly `type`, if any. */
  exact(type: string): readonly Subscription[] | undefined {
    return this.#exact.get(type);
  }

  /** Every wildcard pattern with its subscribers, in the order they were first subscribed. */
  get wildcards(): readonly Wildcard[] {
    return this.#wildcards;
  }

  /** How many subscriptions are live, over all types. */
  get count(): number {
    let n = 0;
    for (const list of this.#exact.values()) n += list.length;
    for (const w of this.#wildcards) n += w.list.length;
    return n;
  }

  /** Calls `listener` with the patterns wanted now and on every change; returns a function that stops it. */
  onInterest(listener: (patterns: ReadonlySet<string>) => void): () => void {
    this.#interestListeners.add(listener);
    listener(new Set(this.#interest.keys()));
    return () => this.#interestListeners.delete(listener);
  }

  add(pattern: string, s: Subscription): void {
    this.#countInterest(pattern, s, 1);
    if (!isWildcard(pattern)) {
      this.#exact.set(pattern, [...(this.#exact.get(pattern) ?? []), s]);
      return;
    }
    const existing = this.#wildcards.find((w) => w.pattern === pattern);
    if (existing !== undefined) existing.list = [...existing.list, s];
    else this.#wildcards = [...this.#wildcards, {pattern, matches: matcher(pattern), list: [s]}];
  }

  remove(pattern: string, s: Subscription): void {
    if (!isWildcard(pattern)) {
      const list = this.#exact.get(pattern);
      if (list === undefined || !list.includes(s)) return;
      this.#countInterest(pattern, s, -1);
      const next = list.filter((x) => x !== s);
      if (next.length === 0) this.#exact.delete(pattern);
      else this.#exact.set(pattern, next);
      return;
    }
    const w = this.#wildcards.find((x) => x.pattern === pattern);
    if (w === undefined || !w.list.includes(s)) return;
    this.#countInterest(pattern, s, -1);
    w.list = w.list.filter((x) => x !== s);
    if (w.list.length === 0) this.#wildcards = this.#wildcards.filter((x) => x !== w);
  }

  /** Removes `s` under whatever pattern it was added (a `once` subscription delivered outside its own call). */
  removeEverywhere(s: Subscription): void {
    for (const [pattern, list] of this.#exact) if (list.includes(s)) this.remove(pattern, s);
    for (const w of this.#wildcards) if (w.list.includes(s)) this.remove(w.pattern, s);
  }

  #countInterest(pattern: string, s: Subscription, delta: 1 | -1): void {
    if (s.name.startsWith('switchboard:')) return;
    const before = this.#interest.get(pattern) ?? 0;
    const after = before + delta;
    if (after <= 0) this.#interest.delete(pattern);
    else this.#interest.set(pattern, after);
    if ((before === 0) !== (after <= 0) && this.#interestListeners.size > 0) {
      const patterns = new Set(this.#interest.keys());
      for (const listener of this.#interestListeners) listener(patterns);
    }
  }
}
