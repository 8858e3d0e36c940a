/**
 * What a change must not break, checked on the state it would produce: every active app's shared
 * ranges resolve, and no app loses the publisher of an event type it consumes. Pure.
 */
import {compare, major} from 'semver';
import {RegistryRefusal} from './errors.js';
import {matchesType} from './glob.js';
import {resolveShared, type SharedBuilds, type SharedRequirement} from './import-map.js';
import type {RegistryState, StoredVersion} from './records.js';

/** Every version some visitor may get: each app's stable one and its canary. */
export function activeVersions(state: RegistryState, kind: 'app' | 'shared' = 'app'): StoredVersion[] {
  const out: StoredVersion[] = [];
  for (const entry of Object.values(state.apps)) {
    if (entry.kind !== kind) continue;
    for (const v of new Set([entry.stable, entry.canary?.version])) {
      if (v !== null && v !== undefined && entry.versions[v] !== undefined) out.push(entry.versions[v]);
    }
  }
  return out;
}

/**
 * The shared modules the import map may use: package → version → URL. Per package, its stable
 * version, and the highest version of every other major (an app needing lit 2 beside lit 3 gets a
 * scope); a newer build of the same major replaces the older one.
 */
export function sharedBuilds(state: RegistryState): SharedBuilds {
  const builds: Record<string, Record<string, string>> = {};
  for (const entry of Object.values(state.apps)) {
    if (entry.kind !== 'shared' || entry.stable === null) continue;
    const stable = entry.versions[entry.stable];
    if (stable === undefined) continue;
    const byMajor = new Map<number, StoredVersion>([[major(stable.version), stable]]);
    for (const v of Object.values(entry.versions)) {
      const m = major(v.version);
      const held = byMajor.get(m);
      if (held === undefined || (held !== stable && compare(v.version, held.version) > 0)) byMajor.set(m, v);
    }
    builds[entry.name] = Object.fromEntries([...byMajor.values()].map((v) => [v.version, v.module]));
  }
  return builds;
}

/** What the shared packages (their stable versions) and the shell import, as requirements. */
export function baseRequirements(state: RegistryState): SharedRequirement[] {
  const out: SharedRequirement[] = [];
  if (state.shell !== undefined) out.push({name: 'shell', module: state.shell.module, requires: state.shell.requires});
  for (const v of activeVersions(state, 'shared')) out.push({name: v.name, module: v.module, requires: v.requires});
  return out;
}

/** Refuses when `version` of app `name` has shared ranges no registered shared module satisfies. */
export function checkShared(state: RegistryState, name: string, version: string): void {
  const target = state.apps[name]?.versions[version];
  if (target === undefined || target.kind !== 'app' || Object.keys(target.requires).length === 0) return;
  const resolution = resolveShared([...baseRequirements(state), {name: target.name, module: target.module, requires: target.requires}], sharedBuilds(state));
  const failed = resolution.unresolved.filter((u) => u.name === name);
  if (failed.length > 0) {
    throw new RegistryRefusal('shared_unsatisfiable', `${name}@${version}: shared ranges cannot be satisfied: ${failed.map((f) => f.reason).join('; ')}`);
  }
}

/**
 * Refuses when, going from `before` to `after`, an active app consumes an event type that some app
 * published before and none publishes after (types only the server publishes are not the
 * registry's to judge). Names the consumer, the type and the app that stopped publishing it.
 */
export function checkContracts(before: RegistryState, after: RegistryState, changed: string): void {
  const was = activeVersions(before);
  const will = activeVersions(after);
  const publishes = (versions: readonly StoredVersion[], type: string) => versions.filter((v) => v.publishes.some((p) => matchesType(p, type)));
  const broken: string[] = [];
  for (const consumer of will) {
    if (consumer.name === changed) continue;
    for (const type of consumer.consumes) {
      const previously = publishes(was, type);
      if (previously.length === 0 || publishes(will, type).length > 0) continue;
      const by = previously.map((v) => `${v.name}@${v.version}`).join(', ');
      broken.push(`${consumer.name}@${consumer.version} consumes "${type}", published by ${by} and by no app after this change`);
    }
  }
  if (broken.length > 0) throw new RegistryRefusal('breaking_contract', `this change to ${changed} breaks a contract: ${broken.join('; ')}`);
}
