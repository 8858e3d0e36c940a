/**
 * Native-Federation-style sharing with browser import maps: each app declares the version range it
 * needs of every shared package; the shell picks one version per package for everyone whose range
 * it satisfies, and scopes an app that needs an incompatible version (another major) to a version
 * of its own. Pure: no I/O, so it is tested on its own.
 */
import {maxSatisfying, rcompare, satisfies, valid} from 'semver';

/** Built copies of shared packages: package name → version → module URL. */
export type SharedBuilds = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** What one app (or the shell itself) needs: its module URL and a semver range per shared package. */
export interface SharedRequirement {
  readonly name: string;
  /** The module whose imports the ranges describe; the scope key when it needs its own versions. */
  readonly module: string;
  readonly requires: Readonly<Record<string, string>>;
}

/** A browser import map (https://html.spec.whatwg.org/multipage/webappapis.html#import-maps). */
export interface ImportMap {
  imports: Record<string, string>;
  scopes: Record<string, Record<string, string>>;
}

/** The resolution: the import map, the version chosen per package, and apps nothing satisfies. */
export interface Resolution {
  readonly importMap: ImportMap;
  readonly chosen: Readonly<Record<string, string>>;
  /** Apps with a range no built version satisfies, and why: load their standalone bundle instead. */
  readonly unresolved: ReadonlyArray<{readonly name: string; readonly reason: string}>;
}

/**
 * One version per package: the one satisfying the most requirements (the highest among equals);
 * each requirement it does not satisfy gets a scope with the highest version that does.
 */
export function resolveShared(requirements: readonly SharedRequirement[], builds: SharedBuilds): Resolution {
  const importMap: ImportMap = {imports: {}, scopes: {}};
  const chosen: Record<string, string> = {};
  const unresolved: Array<{name: string; reason: string}> = [];
  const packages = [...new Set(requirements.flatMap((r) => Object.keys(r.requires)))].sort();
  for (const pkg of packages) {
    const versions = Object.keys(builds[pkg] ?? {}).filter((v) => valid(v) !== null).sort(rcompare);
    const needing = requirements.filter((r) => r.requires[pkg] !== undefined);
    const score = (v: string) => needing.filter((r) => satisfies(v, r.requires[pkg]!)).length;
    const best = versions.reduce<string | undefined>((top, v) => (top === undefined || score(v) > score(top) ? v : top), undefined);
    if (best === undefined || score(best) === 0) {
      for (const r of needing) unresolved.push({name: r.name, reason: `no build of ${pkg} satisfies ${r.requires[pkg]}`});
      continue;
    }
    chosen[pkg] = best;
    importMap.imports[pkg] = builds[pkg]![best]!;
    for (const r of needing) {
      const range = r.requires[pkg]!;
      if (satisfies(best, range)) continue;
      const own = maxSatisfying(versions, range);
      if (own === null) unresolved.push({name: r.name, reason: `no build of ${pkg} satisfies ${range} (have ${versions.join(', ')})`});
      else (importMap.scopes[r.module] ??= {})[pkg] = builds[pkg]![own]!;
    }
  }
  return {importMap, chosen, unresolved};
}
