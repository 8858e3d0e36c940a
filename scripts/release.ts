/**
 * `npm run release`: builds every public package and publishes each one, in dependency order, to
 * the registry npm is configured for, or to `--registry <url>`. A version already on that registry
 * is skipped, so a release that stopped half way can simply be run again. Versions and changelogs
 * come from Changesets first (`npx changeset`, then `npx changeset version`).
 *
 *   npm run release                                    # the registry from npm config
 *   npm run release -- --registry http://127.0.0.1:4873 --tag next
 *   npm run release -- --dry-run                       # pack and check, publish nothing
 */
import {spawnSync} from 'node:child_process';
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {buildPackages, publicPackages, type PublicPackage} from './build-packages';

/** What {@link release} does and where. */
export interface ReleaseOptions {
  /** Registry URL; npm's configured registry when absent. */
  readonly registry?: string;
  /** Dist-tag for the new versions (npm's default, `latest`, when absent). */
  readonly tag?: string;
  /** Runs `npm publish --dry-run`: packs and validates, uploads nothing. */
  readonly dryRun?: boolean;
  /** Environment for the npm processes (e.g. an `npm_config_userconfig` holding a token). */
  readonly env?: NodeJS.ProcessEnv;
  /** Skips the build (the caller built the packages already). */
  readonly skipBuild?: boolean;
  /** Progress lines; `console.log` by default. */
  readonly log?: (line: string) => void;
}

/** What happened to each package. */
export interface ReleaseResult {
  readonly published: readonly PublicPackage[];
  readonly skipped: readonly PublicPackage[];
}

/** How registries refuse a version they already have. */
const ALREADY_PUBLISHED = /EPUBLISHCONFLICT|E409|previously published|cannot publish over|already present/i;

/** Builds and publishes every public package; throws on the first npm failure with npm's output. */
export function release(options: ReleaseOptions = {}): ReleaseResult {
  const log = options.log ?? console.log;
  const env = {...(options.env ?? process.env), NODE_OPTIONS: '', npm_config_node_options: ''};
  const registryArgs = options.registry === undefined ? [] : ['--registry', options.registry];
  const npm = (args: string[], cwd: string) => spawnSync('npm', [...args, ...registryArgs, '--no-audit', '--no-fund'], {cwd, env, encoding: 'utf8'});
  if (options.skipBuild !== true) buildPackages();
  const published: PublicPackage[] = [];
  const skipped: PublicPackage[] = [];
  for (const pkg of publicPackages()) {
    const spec = `${pkg.name}@${pkg.version}`;
    const args = ['publish', '--access', 'public', ...(options.tag === undefined ? [] : ['--tag', options.tag]), ...(options.dryRun ? ['--dry-run'] : [])];
    const run = npm(args, pkg.path);
    const output = `${run.stdout}${run.stderr}`;
    // One npm call per package: asking first would double the calls, and the registry answers a
    // republished version with a conflict anyway (npmjs 403, Verdaccio 409).
    if (run.status !== 0 && ALREADY_PUBLISHED.test(output)) {
      log(`release: ${spec} is already on the registry, skipped`);
      skipped.push(pkg);
      continue;
    }
    if (run.status !== 0) throw new Error(`npm publish failed for ${spec}:\n${output}`);
    log(`release: ${options.dryRun ? 'checked' : 'published'} ${spec}`);
    published.push(pkg);
  }
  return {published, skipped};
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {registry: {type: 'string'}, tag: {type: 'string'}, 'dry-run': {type: 'boolean'}}});
  try {
    const {published, skipped} = release({
      ...(values.registry === undefined ? {} : {registry: values.registry}),
      ...(values.tag === undefined ? {} : {tag: values.tag}),
      dryRun: values['dry-run'] === true,
    });
    console.log(`release: ${published.length} published, ${skipped.length} already there`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
