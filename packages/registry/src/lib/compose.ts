/**
 * A page's composition, decided per request: which version of each app this visitor gets (stable,
 * or a canary), and one import map resolving the shared modules across those apps' ranges. Pure.
 */
import type {Composition, CompositionApp} from '@switchboard/contracts';
import {inCanary, type Visitor} from './canary.js';
import {baseRequirements, sharedBuilds} from './checks.js';
import {resolveShared, type ImportMap} from './import-map.js';
import type {RegistryState, StoredVersion} from './records.js';

/** A native import map with the `integrity` section (https://html.spec.whatwg.org/#import-maps). */
export interface IntegrityImportMap extends ImportMap {
  integrity: Record<string, string>;
}

/** What a page is served: the composition, its import map, and what to preload. */
export interface PageComposition {
  readonly composition: Composition;
  readonly importMap: IntegrityImportMap;
  /** Shared modules the shell imports at start (`<link rel="modulepreload">`). */
  readonly preload: readonly string[];
}

/** Options of {@link compose}. */
export interface ComposeOptions {
  readonly environment: string;
  readonly overridesAllowed: boolean;
}

/** The composition `visitor` gets from `state`. */
export function compose(state: RegistryState, visitor: Visitor, options: ComposeOptions): PageComposition {
  const picked: Array<{version: StoredVersion; channel: 'stable' | 'canary'}> = [];
  for (const entry of Object.values(state.apps)) {
    if (entry.kind !== 'app' || entry.stable === null) continue;
    const canary = entry.canary !== null && inCanary(entry.name, entry.canary, visitor) ? entry.canary.version : undefined;
    const version = entry.versions[canary ?? entry.stable];
    if (version !== undefined) picked.push({version, channel: canary === undefined ? 'stable' : 'canary'});
  }
  const builds = sharedBuilds(state);
  const resolution = resolveShared([...baseRequirements(state), ...picked.map(({version: v}) => ({name: v.name, module: v.module, requires: v.requires}))], builds);
  const unresolved = new Set(resolution.unresolved.map((u) => u.name));
  const integrity: Record<string, string> = {};
  const shared = new Map<string, string>();
  for (const entry of Object.values(state.apps)) {
    if (entry.kind !== 'shared') continue;
    for (const v of Object.values(entry.versions)) if (v.integrity !== undefined) shared.set(v.module, v.integrity);
  }
  for (const url of [...Object.values(resolution.importMap.imports), ...Object.values(resolution.importMap.scopes).flatMap((s) => Object.values(s))]) {
    const sri = shared.get(url);
    if (sri !== undefined) integrity[url] = sri;
  }
  const apps: CompositionApp[] = picked.map(({version: v, channel}) => {
    // An app whose ranges nothing satisfies any more loads its self-contained variant instead.
    const fallback = unresolved.has(v.name) && v.standalone !== undefined;
    const module = fallback ? v.standalone! : v.module;
    const moduleIntegrity = fallback ? v.standaloneIntegrity : v.integrity;
    if (moduleIntegrity !== undefined) integrity[module] = moduleIntegrity;
    if (v.standalone !== undefined && v.standaloneIntegrity !== undefined) integrity[v.standalone] = v.standaloneIntegrity;
    return {
      name: v.name,
      version: v.version,
      title: v.title ?? v.name,
      tag: v.tag!,
      module,
      ...(moduleIntegrity === undefined ? {} : {integrity: moduleIntegrity}),
      ...(v.standalone === undefined ? {} : {standalone: v.standalone}),
      ...(v.standaloneIntegrity === undefined ? {} : {standaloneIntegrity: v.standaloneIntegrity}),
      ...(fallback ? {} : {requires: {...v.requires}}),
      publishes: [...v.publishes],
      consumes: [...v.consumes],
      remountable: v.remountable,
      channel,
    };
  });
  const preload = (state.shell?.preload ?? []).map((pkg) => resolution.importMap.imports[pkg]).filter((u): u is string => u !== undefined);
  return {
    composition: {revision: String(state.revision), environment: options.environment, apps, overridesAllowed: options.overridesAllowed},
    importMap: {...resolution.importMap, integrity},
    preload,
  };
}
