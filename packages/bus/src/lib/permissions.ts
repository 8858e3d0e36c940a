import type {PublishPermissions} from './bus-options.js';
import {matcher} from './patterns.js';

/** Decides whether a source may publish a type, by the bus's {@link PublishPermissions}; matchers are built once per source. */
export class PublishGate {
  readonly #permissions: PublishPermissions | undefined;
  readonly #matchers = new Map<string, ReadonlyArray<(type: string) => boolean>>();

  constructor(permissions: PublishPermissions | undefined) {
    this.#permissions = permissions;
  }

  /** Whether `source` may publish `type`: always without permissions; by its rule, else by `otherSources`. */
  allows(source: string, type: string): boolean {
    const permissions = this.#permissions;
    if (permissions === undefined) return true;
    const patterns = permissions.rules[source];
    if (patterns === undefined) return (permissions.otherSources ?? 'allow') === 'allow';
    let matchers = this.#matchers.get(source);
    if (matchers === undefined) this.#matchers.set(source, (matchers = patterns.map(matcher)));
    return matchers.some((m) => m(type));
  }
}
