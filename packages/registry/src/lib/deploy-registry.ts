/**
 * The deploy registry: versioned app records behind a {@link RegistryStore}, changed only by
 * compare-and-set on the revision, and each page's composition computed from it on request.
 */
import {compose, type PageComposition} from './compose.js';
import type {Visitor} from './canary.js';
import {RegistryRefusal} from './errors.js';
import {cohortSchema, deployRecordSchema, type Change, type Cohort, type DeployRecord, type DeployRecordInput, type RegistryState, type ShellRequirement} from './records.js';
import {deploy, promote, rollback, setCanary, type ChangeContext, type Transition} from './state.js';
import type {RegistryStore} from './store/store.js';
import {httpModuleFetcher, verifyModules, type ModuleFetcher} from './verify.js';

/** Options of {@link DeployRegistry}. */
export interface DeployRegistryOptions {
  readonly store: RegistryStore;
  /** The environment's name, shown to pages; default `local`. */
  readonly environment?: string;
  /**
   * Whether pages may point apps at other URLs (local overrides). They load arbitrary code, so the
   * default is true only for the `local` and `development` environments.
   */
  readonly overridesAllowed?: boolean;
  /** Fetches modules to check them at deploy time; `fetch` with a 10 s timeout and 10 MB bound by default. */
  readonly fetchModule?: ModuleFetcher;
  /** Turns a module path (`/deploys/…`) into a URL to fetch; absolute URLs pass through. */
  readonly resolveUrl?: (url: string) => string;
}

/** What every change takes: the revision it expects (a stale one is refused) and who makes it. */
export interface ChangeOptions {
  /** The revision the caller saw; the change is refused with `stale_revision` when it moved on. Omit to take the current one. */
  readonly expect?: string;
  readonly by?: string;
}

/** A build's seed: what `npm run build` produced, deployed on start when it changed. */
export interface SeedFile {
  /** A hash of the build, so the same build is seeded once. */
  readonly build: string;
  readonly shell: ShellRequirement;
  readonly records: readonly DeployRecordInput[];
}

/** Called after every committed change, with the state it produced. */
export type ChangeListener = (change: Change, state: RegistryState) => void;

/**
 * ```ts
 * const registry = new DeployRegistry({store: new FileRegistryStore('.switchboard')});
 * await registry.open();
 * await registry.deploy({name: 'orders', version: '2.0.0', tag: 'shop-orders', module: '/deploys/orders/2.0.0-ab12/orders.js'});
 * const page = await registry.compose({id: visitorId});
 * ```
 */
export class DeployRegistry {
  readonly environment: string;
  readonly overridesAllowed: boolean;
  readonly #store: RegistryStore;
  readonly #fetch: ModuleFetcher;
  readonly #resolveUrl: (url: string) => string;
  readonly #listeners = new Set<ChangeListener>();

  constructor(options: DeployRegistryOptions) {
    this.#store = options.store;
    this.environment = options.environment ?? 'local';
    this.overridesAllowed = options.overridesAllowed ?? (this.environment === 'local' || this.environment === 'development');
    this.#fetch = options.fetchModule ?? httpModuleFetcher();
    this.#resolveUrl = options.resolveUrl ?? ((url) => url);
  }

  /** Opens the store. */
  open(): Promise<void> {
    return this.#store.open();
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  /** Calls `listener` after every change this process commits; returns a function that stops it. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The current state. */
  state(): Promise<RegistryState> {
    return this.#store.read();
  }

  /** Every change, oldest first (the last `limit`). */
  history(limit?: number): Promise<Change[]> {
    return this.#store.history(limit);
  }

  /** The composition and import map `visitor` gets now. */
  async compose(visitor: Visitor): Promise<PageComposition> {
    return compose(await this.#store.read(), visitor, {environment: this.environment, overridesAllowed: this.overridesAllowed});
  }

  /**
   * Deploys one version: validated, its modules fetched and checked against their integrity, its
   * shared ranges resolved and the contracts other apps consume kept; then committed if the revision
   * is still the one expected. With `canary`, only that share (or cohort) of visitors gets it.
   */
  async deploy(input: unknown, options: ChangeOptions & {canary?: {percent: number; cohort?: Cohort}} = {}): Promise<Change> {
    const record = parseRecord(input);
    const cohort = options.canary?.cohort === undefined ? undefined : parseCohort(options.canary.cohort);
    const verified = await verifyModules(record, this.#fetch, this.#resolveUrl);
    const canary = options.canary === undefined ? undefined : {percent: options.canary.percent, ...(cohort === undefined ? {} : {cohort})};
    return this.#change(options, (state, context) => deploy(state, verified, context, canary));
  }

  /** Gives deployed `version` of `name` to `percent` of visitors (and a cohort), sticky per visitor. */
  canary(name: string, canary: {version: string; percent: number; cohort?: Cohort}, options: ChangeOptions = {}): Promise<Change> {
    const cohort = canary.cohort === undefined ? undefined : parseCohort(canary.cohort);
    return this.#change(options, (state, context) => setCanary(state, name, {version: canary.version, percent: canary.percent, ...(cohort === undefined ? {} : {cohort})}, context));
  }

  /** Makes the canary of `name` stable for everyone. */
  promote(name: string, options: ChangeOptions = {}): Promise<Change> {
    return this.#change(options, (state, context) => promote(state, name, context));
  }

  /** Ends the canary of `name`, or goes back to `to` (default: the previous stable version). */
  rollback(name: string, options: ChangeOptions & {to?: string} = {}): Promise<Change> {
    return this.#change(options, (state, context) => rollback(state, name, context, options.to));
  }

  /**
   * Deploys a build's output when it differs from what was seeded last (first start, or a rebuild):
   * every app or shared module the build changed (or that is not registered yet) becomes a new
   * stable version; what the build left as it was keeps the version deployed since. Apps a
   * check refuses are left as they were and returned with the reason. Several nodes may race: one wins.
   */
  async seed(seed: SeedFile): Promise<{changes: Change[]; refused: string[]}> {
    for (let attempt = 0; ; attempt++) {
      const start = await this.#store.read();
      if (start.seed === seed.build) return {changes: [], refused: []};
      const at = new Date().toISOString();
      let state: RegistryState = start;
      const changes: Change[] = [];
      const refused: string[] = [];
      for (const input of seed.records) {
        let record: DeployRecord;
        try {
          record = parseRecord(input);
          const entry = state.apps[record.name];
          if (entry?.stable === record.version && entry.versions[record.version] !== undefined) continue;
          // What the build did not change stays as deployed since (a CLI deploy is not undone by a rebuild).
          if (entry !== undefined && start.seeded?.[record.name] === record.version) continue;
          const t = deploy(state, record, {at, by: 'build'});
          state = t.state;
          changes.push({...t.change, action: 'seed'});
        } catch (error) {
          refused.push(`${(input as {name?: string}).name ?? '?'}: ${(error as Error).message}`);
        }
      }
      const seeded = Object.fromEntries(seed.records.map((r) => [(r as {name: string}).name, (r as {version: string}).version]));
      const final: RegistryState = {...state, revision: start.revision + 1, shell: seed.shell, seed: seed.build, seeded};
      const summary: Change = {revision: final.revision, at, action: 'seed', name: '*', version: seed.build, from: start.seed ?? null, channel: 'stable', by: 'build'};
      const result = await this.#store.commit(start.revision, final, summary);
      if (!result.ok) {
        if (attempt < 5) continue;
        throw new RegistryRefusal('stale_revision', 'the registry kept changing while seeding', String(result.current));
      }
      const committed = changes.map((c) => ({...c, revision: final.revision}));
      for (const c of committed) this.#emit(c, final);
      return {changes: committed, refused};
    }
  }

  async #change(options: ChangeOptions, apply: (state: RegistryState, context: ChangeContext) => Transition): Promise<Change> {
    const state = await this.#store.read();
    if (options.expect !== undefined && options.expect !== String(state.revision)) {
      throw new RegistryRefusal('stale_revision', `the registry is at revision ${state.revision}, not ${options.expect}: another change came first; look at it and retry`, String(state.revision));
    }
    const {state: after, change} = apply(state, {at: new Date().toISOString(), ...(options.by === undefined ? {} : {by: options.by})});
    const result = await this.#store.commit(state.revision, after, change);
    if (!result.ok) {
      throw new RegistryRefusal('stale_revision', `the registry moved to revision ${result.current} during this change: another change came first; look at it and retry`, String(result.current));
    }
    this.#emit(change, after);
    return change;
  }

  #emit(change: Change, state: RegistryState): void {
    for (const listener of this.#listeners) listener(change, state);
  }
}

function parseRecord(input: unknown): DeployRecord {
  const parsed = deployRecordSchema.safeParse(input);
  if (!parsed.success) {
    throw new RegistryRefusal('invalid', `invalid deploy record: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function parseCohort(input: unknown): Cohort {
  const parsed = cohortSchema.safeParse(input);
  if (!parsed.success) throw new RegistryRefusal('invalid', `invalid cohort: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
