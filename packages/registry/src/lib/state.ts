/**
 * The registry's changes as pure functions of its state: deploy, canary, promote, rollback. Each
 * returns the next state and the history entry, or throws a {@link RegistryRefusal}; none does I/O.
 */
import {rcompare} from 'semver';
import {checkContracts, checkShared} from './checks.js';
import {RegistryRefusal} from './errors.js';
import type {AppEntry, Canary, Change, DeployRecord, RegistryState, StoredVersion} from './records.js';

/** A change's outcome: the state after it and what the history records. */
export interface Transition {
  readonly state: RegistryState;
  readonly change: Change;
}

/** Who and when, for the history. */
export interface ChangeContext {
  readonly at: string;
  readonly by?: string;
}

function entryOf(state: RegistryState, name: string): AppEntry {
  const entry = state.apps[name];
  if (entry === undefined) throw new RegistryRefusal('not_found', `no app or shared module named "${name}" is deployed`);
  return entry;
}

function next(state: RegistryState, entry: AppEntry): RegistryState {
  return {...state, revision: state.revision + 1, apps: {...state.apps, [entry.name]: entry}};
}

function sameRecord(a: DeployRecord, b: DeployRecord): boolean {
  const strip = ({deployedAt: _, ...rest}: DeployRecord & {deployedAt?: string}) => JSON.stringify(rest, Object.keys(rest).sort());
  return strip(a) === strip(b);
}

function validateCanary(canary: Canary): void {
  if (!(canary.percent >= 0 && canary.percent <= 100)) throw new RegistryRefusal('invalid', `a canary share is 0 to 100 (percent), not ${canary.percent}`);
}

function checked(before: RegistryState, after: RegistryState, name: string, version: string): RegistryState {
  checkShared(after, name, version);
  checkContracts(before, after, name);
  return after;
}

/**
 * Deploys `record`: as the stable version, or, with `canary`, to a share of visitors. A version is
 * immutable: deploying it again with other content is refused (deploy a new version).
 */
export function deploy(state: RegistryState, record: DeployRecord, context: ChangeContext, canary?: Omit<Canary, 'version'>): Transition {
  const existing = state.apps[record.name];
  if (existing !== undefined && existing.kind !== record.kind) {
    throw new RegistryRefusal('invalid', `"${record.name}" is registered as ${existing.kind === 'app' ? 'an app' : 'a shared module'}, not ${record.kind === 'app' ? 'an app' : 'a shared module'}`);
  }
  const known = existing?.versions[record.version];
  if (known !== undefined && !sameRecord(known, record)) {
    throw new RegistryRefusal('immutable_version', `${record.name}@${record.version} is already deployed with other content; versions are immutable: deploy a new version`);
  }
  const stored: StoredVersion = known ?? {...record, deployedAt: context.at};
  const base: AppEntry = existing ?? {kind: record.kind, name: record.name, stable: null, canary: null, past: [], versions: {}};
  const versions = {...base.versions, [record.version]: stored};
  const from = base.stable;
  let entry: AppEntry;
  if (canary !== undefined && record.kind === 'app') {
    if (from === null) throw new RegistryRefusal('invalid', `${record.name} has no stable version yet: its first deploy cannot be a canary`);
    const full: Canary = {...canary, version: record.version};
    validateCanary(full);
    entry = {...base, versions, canary: full};
  } else {
    const past = from === null || from === record.version ? base.past : [...base.past, from];
    entry = {...base, versions, stable: record.version, past, canary: base.canary?.version === record.version ? null : base.canary};
  }
  const after = checked(state, next(state, entry), record.name, record.version);
  const channel = entry.canary?.version === record.version && entry.stable !== record.version ? 'canary' : 'stable';
  return {
    state: after,
    change: {revision: after.revision, at: context.at, action: 'deploy', name: record.name, version: record.version, from, channel, ...(context.by === undefined ? {} : {by: context.by}), ...(channel === 'canary' ? {canary: entry.canary!} : {})},
  };
}

/** Gives an already deployed `version` of app `name` to a share of visitors (or changes the share). */
export function setCanary(state: RegistryState, name: string, canary: Canary, context: ChangeContext): Transition {
  const entry = entryOf(state, name);
  if (entry.kind !== 'app') throw new RegistryRefusal('invalid', `"${name}" is a shared module: canaries are for apps`);
  if (entry.versions[canary.version] === undefined) throw new RegistryRefusal('not_found', `${name}@${canary.version} was never deployed: deploy it first (with --canary)`);
  if (entry.stable === canary.version) throw new RegistryRefusal('invalid', `${name}@${canary.version} is already the stable version`);
  validateCanary(canary);
  const after = checked(state, next(state, {...entry, canary}), name, canary.version);
  return {
    state: after,
    change: {revision: after.revision, at: context.at, action: 'canary', name, version: canary.version, from: entry.stable, channel: 'canary', canary, ...(context.by === undefined ? {} : {by: context.by})},
  };
}

/** Makes the canary of app `name` its stable version, for every visitor. */
export function promote(state: RegistryState, name: string, context: ChangeContext): Transition {
  const entry = entryOf(state, name);
  if (entry.canary === null) throw new RegistryRefusal('invalid', `${name} has no canary to promote`);
  const version = entry.canary.version;
  const past = entry.stable === null ? entry.past : [...entry.past, entry.stable];
  const after = checked(state, next(state, {...entry, stable: version, canary: null, past}), name, version);
  return {state: after, change: {revision: after.revision, at: context.at, action: 'promote', name, version, from: entry.stable, channel: 'stable', ...(context.by === undefined ? {} : {by: context.by})}};
}

/**
 * Rolls app `name` back: with a canary running and no `to`, ends the canary (everyone gets the
 * stable version); otherwise makes `to` (default: the stable version before this one) stable.
 */
export function rollback(state: RegistryState, name: string, context: ChangeContext, to?: string): Transition {
  const entry = entryOf(state, name);
  const by = context.by === undefined ? {} : {by: context.by};
  if (to === undefined && entry.canary !== null) {
    const after = checked(state, next(state, {...entry, canary: null}), name, entry.stable ?? entry.canary.version);
    return {state: after, change: {revision: after.revision, at: context.at, action: 'rollback', name, version: entry.stable ?? '', from: entry.canary.version, channel: 'canary', ...by}};
  }
  if (entry.stable === null) throw new RegistryRefusal('invalid', `${name} has no stable version to roll back from`);
  const target = to ?? entry.past.at(-1);
  if (target === undefined) throw new RegistryRefusal('invalid', `${name}@${entry.stable} is its first version: there is nothing to roll back to`);
  if (entry.versions[target] === undefined) {
    const known = Object.keys(entry.versions).sort(rcompare).join(', ');
    throw new RegistryRefusal('not_found', `${name}@${target} was never deployed (deployed: ${known})`);
  }
  if (target === entry.stable) throw new RegistryRefusal('invalid', `${name}@${target} is already the stable version`);
  const idx = entry.past.lastIndexOf(target);
  const past = idx === -1 ? entry.past : entry.past.slice(0, idx);
  const canary = entry.canary?.version === target ? null : entry.canary;
  const after = checked(state, next(state, {...entry, stable: target, past, canary}), name, target);
  return {state: after, change: {revision: after.revision, at: context.at, action: 'rollback', name, version: target, from: entry.stable, channel: 'stable', ...by}};
}
