/**
 * `npm run release`: builds every public package and publishes each one, in dependency order (those
 * independent of each other concurrently), to the registry npm is configured for, or to
 * `--registry <url>`. A version already on that registry
 * is skipped, so a release that stopped half way can simply be run again. Versions and changelogs
 * come from Changesets first (`npx changeset`, then `npx changeset version`).
 *
 *   npm run release                                    # the registry from npm config
 *   npm run release -- --registry http://127.0.0.1:4873 --tag next
 *   npm run release -- --dry-run                       # pack and check, publish nothing
 */
import {spawn} from 'node:child_process';
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

/**
 * How many `npm publish` processes run at once. Each is mostly npm's own start-up (about a second of
 * CPU), so a few at a time overlap one's waits on the registry with another's work.
 */
const PARALLEL_PUBLISHES = 4;

/**
 * Builds and publishes every public package; throws on the first npm failure with npm's output.
 * A package is published only after every kit package it depends on (so an install that starts
 * mid-release never finds a package whose dependency is missing); packages that do not depend on
 * each other are published concurrently.
 */
export async function release(options: ReleaseOptions = {}): Promise<ReleaseResult> {
  const log = options.log ?? console.log;
  const env = {...(options.env ?? process.env), NODE_OPTIONS: '', npm_config_node_options: ''};
  const registryArgs = options.registry === undefined ? [] : ['--registry', options.registry];
  const npm = (args: string[], cwd: string) =>
    new Promise<{status: number | null; output: string}>((resolveRun, reject) => {
      const child = spawn('npm', [...args, ...registryArgs, '--no-audit', '--no-fund'], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']});
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('error', reject);
      child.once('close', (status) => resolveRun({status, output}));
    });
  if (options.skipBuild !== true) buildPackages();
  const packages = publicPackages();
  const outcome = new Map<string, 'published' | 'skipped'>();
  const publish = async (pkg: PublicPackage): Promise<void> => {
    const spec = `${pkg.name}@${pkg.version}`;
    const args = ['publish', '--access', 'public', ...(options.tag === undefined ? [] : ['--tag', options.tag]), ...(options.dryRun ? ['--dry-run'] : [])];
    const {status, output} = await npm(args, pkg.path);
    // One npm call per package: asking first would double the calls, and the registry answers a
    // republished version with a conflict anyway (npmjs 403, Verdaccio 409).
    if (status !== 0 && ALREADY_PUBLISHED.test(output)) {
      log(`release: ${spec} is already on the registry, skipped`);
      outcome.set(pkg.name, 'skipped');
      return;
    }
    if (status !== 0) throw new Error(`npm publish failed for ${spec}:\n${output}`);
    log(`release: ${options.dryRun ? 'checked' : 'published'} ${spec}`);
    outcome.set(pkg.name, 'published');
  };
  // publicPackages() lists dependencies first, so a package whose dependencies are all done can start.
  const waiting = [...packages];
  const running = new Map<string, Promise<void>>();
  let failure: unknown;
  while ((waiting.length > 0 || running.size > 0) && failure === undefined) {
    for (let i = 0; i < waiting.length && running.size < PARALLEL_PUBLISHES; ) {
      const pkg = waiting[i]!;
      if (!pkg.internal.every((dependency) => outcome.has(dependency))) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      running.set(
        pkg.name,
        publish(pkg).then(
          () => void running.delete(pkg.name),
          (error: unknown) => {
            running.delete(pkg.name);
            failure ??= error;
          },
        ),
      );
    }
    if (running.size === 0 && waiting.length > 0) throw new Error(`release: no package can start (${waiting.map((p) => p.name).join(', ')} wait on each other)`);
    await Promise.race(running.values());
  }
  // Let publishes already under way finish before reporting the failure: none is left half done.
  await Promise.all(running.values());
  if (failure !== undefined) throw failure;
  const inOrder = (kind: 'published' | 'skipped') => packages.filter((pkg) => outcome.get(pkg.name) === kind);
  return {published: inOrder('published'), skipped: inOrder('skipped')};
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {registry: {type: 'string'}, tag: {type: 'string'}, 'dry-run': {type: 'boolean'}}});
  try {
    const {published, skipped} = await release({
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
