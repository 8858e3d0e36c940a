/**
 * The scaffolder as a user meets it, for the consumer test: each `npm create switchboard@latest …`
 * line of docs/guide/scaffold.md run as written (against the local registry through npm config),
 * then the new project's own `npm install` and `npm test` (type-check, Vite build, Playwright in
 * Chromium on `@switchboard/testing`). A template whose kit packages are not published (not in
 * this repository yet) is reported as not run, never as passed. Two projects are made at a time:
 * one's npm install waits on the network while the other's tests use the CPU.
 */
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {docsCommands} from './docs-commands';

/** What the scaffold check needs from the consumer test. */
export interface ScaffoldCheckOptions {
  /** The repository's root (to read the docs page and the templates). */
  readonly root: string;
  /** A folder to create the projects in. */
  readonly workDir: string;
  /** Environment for npm: npm_config_registry pointing at the local registry, no repository NODE_OPTIONS. */
  readonly env: NodeJS.ProcessEnv;
  /** Names of the packages the release published. */
  readonly published: ReadonlySet<string>;
  readonly step: (what: string) => void;
}

/** The page whose commands are run. */
export const SCAFFOLD_PAGE = 'docs/guide/scaffold.md';

/** Runs every template's docs line and the project's own tests; resolves with the templates not run, with why. */
export async function checkScaffolds(options: ScaffoldCheckOptions): Promise<string[]> {
  const {root, workDir, env, published, step} = options;
  const lines = docsCommands(readFileSync(join(root, SCAFFOLD_PAGE), 'utf8'), 'npm create');
  const notRun: string[] = [];
  const jobs: Array<() => Promise<void>> = [];
  for (const template of readdirTemplates(root)) {
    const command = lines.find((c) => c.argv.includes('--template') && c.argv[c.argv.indexOf('--template') + 1] === template);
    if (command === undefined) throw new Error(`${SCAFFOLD_PAGE} shows no "npm create switchboard@latest … -- --template ${template}" line`);
    const wanted = kitPackagesOf(root, template).filter((name) => !published.has(name));
    if (wanted.length > 0) {
      notRun.push(`${template} (needs ${wanted.join(', ')}, not in this repository yet)`);
      continue;
    }
    jobs.push(async () => {
      const parent = join(workDir, template);
      mkdirSync(parent, {recursive: true});
      // npm asks before fetching a create-* package unless told yes (this machine's npm config says `yes=false`).
      const began = Date.now();
      const seconds = (from: number, to = Date.now()) => `${((to - from) / 1000).toFixed(1)} s`;
      await run(command.argv, parent, {...env, npm_config_yes: 'true'});
      const name = command.argv[command.argv.findIndex((word) => word.startsWith('switchboard@')) + 1]!;
      const project = join(parent, name);
      if (!existsSync(join(project, 'package.json'))) throw new Error(`"${command.line}" wrote no ${name}/package.json`);
      const created = Date.now();
      await run(['npm', 'install', '--prefer-offline'], project, env);
      const installed = Date.now();
      await run(['npm', 'test'], project, env);
      step(`npm create switchboard (${template}): its own npm test passed (create ${seconds(began, created)}, install ${seconds(created, installed)}, test ${seconds(installed)})`);
    });
  }
  const pool = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) await job();
  };
  // Settled, not all: a failure must not leave the other project's processes running past the test.
  const failed = (await Promise.allSettled([pool(), pool()])).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return notRun;
}

function readdirTemplates(root: string): string[] {
  const pkg = join(root, 'packages/create-switchboard/templates');
  return ['lit', 'vanilla', 'react', 'shell'].filter((t) => existsSync(join(pkg, t, 'package.json')));
}

/** The kit packages a template's package.json asks for. */
function kitPackagesOf(root: string, template: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'packages/create-switchboard/templates', template, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  return Object.keys({...pkg['dependencies'], ...pkg['devDependencies']}).filter((name) => name.startsWith('@switchboard/'));
}

function run(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  // Quiet flags for installs only: after `npm create … --` they would reach the scaffolder.
  const quiet = argv[1] === 'install' ? ['--no-audit', '--no-fund', '--loglevel=error'] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), ...quiet], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']});
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`"${argv.join(' ')}" failed (exit ${code}) in ${cwd}:\n${output}`))));
  });
}
