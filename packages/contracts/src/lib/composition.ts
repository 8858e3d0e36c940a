import {z} from 'zod';
import {defineEvent} from './define-event.js';

/**
 * The composition seam between the deploy registry (server side, `@switchboard/registry`) and the
 * shell runtime (page side, `@switchboard/shell`): what a page is composed of, decided when the page
 * is requested. The registry writes it; the shell reads it. Neither imports the other.
 *
 * Where a page finds it: inline, in `<script type="application/json" id="switchboard-composition">`
 * injected by the server into the shell's HTML (next to one native `<script type="importmap">`), or,
 * when absent, from `GET /composition.json` (the same body). `/manifest.json` stays as an alias.
 */
export const COMPOSITION_ELEMENT_ID = 'switchboard-composition';

/** The path a shell fetches its composition from when the page carries none inline. */
export const COMPOSITION_PATH = '/composition.json';

/**
 * Where a developer's local overrides live in a page (`localStorage`): a JSON object, app name or
 * shared package name → module URL. The server's page applies them before any module loads, and
 * only where the composition says `overridesAllowed`.
 */
export const OVERRIDES_STORAGE_KEY = 'switchboard-overrides';

/** The query parameter that sets one override (`?sb-override=orders=http://localhost:5174/src/index.ts`; an empty URL clears it). */
export const OVERRIDE_QUERY = 'sb-override';

/** The hub topic on which deploys are announced to open pages ({@link AppDeployed}, {@link AppRolledBack}). */
export const DEPLOYS_TOPIC = 'deploys';

const appName = z.string().max(64).regex(/^[a-z][a-z0-9-]{0,63}$/, 'an app name is lower-case letters, digits and dashes');
const integrity = z.string().regex(/^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$/, 'an SRI hash such as sha384-…');

/** One app as a page gets it: which version, where its modules are, what it may publish. */
export const compositionAppSchema = z.object({
  name: appName,
  /** The deployed version (semver) this page gets: the stable one, or a canary for this visitor. */
  version: z.string().min(1).max(64),
  title: z.string().max(200),
  /** The custom element the module defines (a React or Vue app ships one too, see `@switchboard/react`). */
  tag: z.string().regex(/^[a-z][a-z0-9]*-[a-z0-9-]*$/, 'a custom element tag needs a dash'),
  /** The module the shell loads: the shared variant (bare imports resolved by the page's import map). */
  module: z.string().min(1).max(2048),
  integrity: integrity.optional(),
  /** The self-contained variant: one script tag anywhere, and the shell's fallback when `module` fails. */
  standalone: z.string().min(1).max(2048).optional(),
  standaloneIntegrity: integrity.optional(),
  /** Shared package ranges the shared variant imports by bare name (already resolved into the import map). */
  requires: z.record(z.string(), z.string()).optional(),
  /** Type patterns the app may publish; the shell's bus refuses anything else from `mfe:<tag>`. */
  publishes: z.array(z.string()).default([]),
  /** Event types the app consumes (for the registry's breaking-change check). */
  consumes: z.array(z.string()).optional(),
  /** True when the app can be unmounted and mounted again in place, so a deploy may swap it without a reload. */
  remountable: z.boolean().optional(),
  /** `canary` when this visitor was put in the app's canary cohort. */
  channel: z.enum(['stable', 'canary']).optional(),
  /** Set by the page's overrides bootstrap: a developer pointed this app at another URL, so deploys of it neither swap nor notify. */
  override: z.boolean().optional(),
});

/** One app as a page gets it. */
export type CompositionApp = z.infer<typeof compositionAppSchema>;

/** What one page is composed of, as the registry answered for one request. */
export const compositionSchema = z.object({
  /** Changes with every deploy, rollback or promote: a page compares it with {@link AppDeployed} events. */
  revision: z.string().min(1).max(128),
  /** The environment's name, e.g. `production`, `staging`, `local`. */
  environment: z.string().max(64).default('local'),
  apps: z.array(compositionAppSchema),
  /** Whether this environment lets a developer point an app or shared module at another URL. */
  overridesAllowed: z.boolean().default(false),
});

/** What one page is composed of. */
export type Composition = z.infer<typeof compositionSchema>;

/** A new version of an app is live for new page loads (or for a canary share of them). */
export const AppDeployed = defineEvent({
  type: 'app.deployed',
  version: 1,
  description: 'A new version of a micro frontend was deployed (or promoted) in the registry.',
  schema: z.object({
    name: appName,
    version: z.string().max(64),
    previous: z.string().max(64).nullable(),
    /** `stable` for a deploy or promote; `canary` while only a share of visitors get it. */
    channel: z.enum(['stable', 'canary']),
    /** The composition revision after this change. */
    revision: z.string().max(128),
    remountable: z.boolean().default(false),
  }),
});

/** An app went back to an earlier version. */
export const AppRolledBack = defineEvent({
  type: 'app.rolledback',
  version: 1,
  description: 'A micro frontend was rolled back to an earlier version in the registry.',
  schema: z.object({
    name: appName,
    version: z.string().max(64),
    from: z.string().max(64),
    revision: z.string().max(128),
    remountable: z.boolean().default(false),
  }),
});
