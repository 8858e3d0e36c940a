/**
 * `npm run typecheck`: every workspace's TypeScript project and the root's, checked by one `tsc -b`
 * process. One process reads the standard library, Node's types and the kit's sources once for all
 * projects and checks projects side by side, where one `npm run typecheck` per workspace started
 * npm and tsc two dozen times over. A workspace whose `typecheck` script is anything other than
 * `tsc -p tsconfig.json` still runs its own script.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  workspaces?: string[];
  scripts?: Record<string, string>;
}

const read = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The workspace folders the root package.json names (`dir` or `dir/*`), sorted. */
function workspaces(): string[] {
  return (read(root).workspaces ?? []).flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent), {withFileTypes: true})
      .filter((entry) => entry.isDirectory() && existsSync(join(root, parent, entry.name, 'package.json')))
      .map((entry) => `${parent}/${entry.name}`)
      .sort();
  });
}

const projects: string[] = [];
const ownScripts: string[] = [];
for (const dir of workspaces()) {
  const script = read(join(root, dir)).scripts?.['typecheck'];
  if (script === undefined) continue;
  if (script.trim() === 'tsc -p tsconfig.json') projects.push(`${dir}/tsconfig.json`);
  else ownScripts.push(dir);
}
projects.push('tsconfig.json');

const run = (command: string, args: string[]): void => {
  const result = spawnSync(command, args, {cwd: root, stdio: 'inherit'});
  if (result.status !== 0) process.exit(result.status ?? 1);
};
for (const dir of ownScripts) run('npm', ['run', 'typecheck', `--workspace=${dir}`]);
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', ...projects]);
console.log(`typecheck: ${projects.length} projects${ownScripts.length === 0 ? '' : ` and ${ownScripts.length} workspace scripts`} passed`);
