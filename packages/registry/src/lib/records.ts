import {valid} from 'semver';
import {z} from 'zod';

const sri = z.string().regex(/^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$/, 'an SRI hash such as sha384-…');
const moduleUrl = z
  .string()
  .min(1)
  .max(2048)
  .refine((u) => u.startsWith('/') || /^https?:\/\//.test(u), 'a module URL is absolute (http(s)://…) or a path on this server (/…)');
const APP_NAME = /^[a-z][a-z0-9-]{0,63}$/;
/** An npm package name, or one of its entry points (`react-dom/client`, `react/jsx-runtime`): what a bare import names. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,213}(\/[a-z0-9][a-z0-9._-]{0,100}){0,4}$/;

/**
 * What a deploy sends: one version of one app (or of one shared package), immutable once deployed.
 * `kind: 'shared'` registers a shared module (`lit`, `@switchboard/bus`…) that the import map may
 * resolve bare imports to; apps are what pages mount.
 */
export const deployRecordSchema = z
  .object({
    kind: z.enum(['app', 'shared']).default('app'),
    name: z.string().min(1).max(214),
    version: z.string().max(64).refine((v) => valid(v) !== null, 'a version is semver, e.g. 1.4.2 (or 1.4.2+build.7)'),
    title: z.string().max(200).optional(),
    /** The custom element the app's module defines (apps only). */
    tag: z.string().regex(/^[a-z][a-z0-9]*-[a-z0-9-]*$/, 'a custom element tag needs a dash').optional(),
    /** The shared variant (bare imports resolved by the import map), or the shared package's module. */
    module: moduleUrl,
    integrity: sri.optional(),
    standalone: moduleUrl.optional(),
    standaloneIntegrity: sri.optional(),
    /** Semver range per shared package the module imports by bare name. */
    requires: z.record(z.string(), z.string().max(200)).default({}),
    publishes: z.array(z.string().max(200)).max(500).default([]),
    consumes: z.array(z.string().max(200)).max(500).default([]),
    remountable: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.kind === 'app') {
      if (!APP_NAME.test(r.name)) ctx.addIssue({code: 'custom', path: ['name'], message: 'an app name is lower-case letters, digits and dashes'});
      if (r.tag === undefined) ctx.addIssue({code: 'custom', path: ['tag'], message: 'an app needs the custom element tag its module defines'});
    } else if (!PACKAGE_NAME.test(r.name)) {
      ctx.addIssue({code: 'custom', path: ['name'], message: 'a shared module is named after its npm package or one of its entry points (react-dom/client)'});
    }
  });

/** One version of one app or shared package, as deployed. */
export type DeployRecord = z.output<typeof deployRecordSchema>;
/** What a deploy may send (defaults filled in by the registry). */
export type DeployRecordInput = z.input<typeof deployRecordSchema>;

/** Who gets a canary besides its random share: requests carrying this header or cookie with this value. */
export const cohortSchema = z
  .object({header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional(), cookie: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(), value: z.string().min(1).max(200)})
  .refine((c) => c.header !== undefined || c.cookie !== undefined, 'a cohort names a header or a cookie');

/** A cohort (header or cookie with a value) that always gets the canary. */
export type Cohort = z.infer<typeof cohortSchema>;

/** A version a share of visitors gets instead of the stable one. */
export interface Canary {
  readonly version: string;
  /** Share of visitors, 0–100 (fractions allowed, to 0.01). */
  readonly percent: number;
  readonly cohort?: Cohort;
}

/** A deployed version with when it was deployed. */
export type StoredVersion = DeployRecord & {readonly deployedAt: string};

/** Everything the registry knows of one app or shared package. */
export interface AppEntry {
  readonly kind: 'app' | 'shared';
  readonly name: string;
  /** The version every visitor gets (but a canary's share); null before the first stable deploy. */
  readonly stable: string | null;
  readonly canary: Canary | null;
  /** Earlier stable versions, oldest first: where a rollback goes. */
  readonly past: readonly string[];
  readonly versions: Readonly<Record<string, StoredVersion>>;
}

/** The shell page's own needs: its entry module and the shared ranges it imports. */
export interface ShellRequirement {
  readonly module: string;
  readonly requires: Readonly<Record<string, string>>;
  /** Shared packages the shell imports at start, preloaded with `modulepreload`. */
  readonly preload?: readonly string[];
}

/** The registry's whole state: one revision, bumped by every change. */
export interface RegistryState {
  readonly revision: number;
  readonly apps: Readonly<Record<string, AppEntry>>;
  readonly shell?: ShellRequirement;
  /** The build the registry was last seeded from (a hash of its seed file). */
  readonly seed?: string;
  /** The version of each app and shared module in that build: a rebuild deploys only what it changed. */
  readonly seeded?: Readonly<Record<string, string>>;
}

/** What a change did. */
export type ChangeAction = 'seed' | 'deploy' | 'canary' | 'promote' | 'rollback';

/** One entry of the history: every change, in order. */
export interface Change {
  readonly revision: number;
  readonly at: string;
  readonly action: ChangeAction;
  readonly name: string;
  readonly version: string;
  /** The stable version before the change (null for a first deploy). */
  readonly from: string | null;
  readonly channel: 'stable' | 'canary';
  /** Who made it (the token's subject), when known. */
  readonly by?: string;
  readonly canary?: Canary;
}

/** The empty registry. */
export const EMPTY_STATE: RegistryState = {revision: 0, apps: {}};
