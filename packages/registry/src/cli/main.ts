/**
 * `switchboard`: deploy, canary, promote, roll back and list apps on a running Switchboard server.
 *
 *   switchboard deploy <dir with deploy.json | URL of a deploy.json> [--version V] [--canary P]
 *   switchboard canary <app> --version V --percent P [--cohort-header Name=value] [--cohort-cookie name=value]
 *   switchboard promote <app>
 *   switchboard rollback <app> [--to V]
 *   switchboard history [app] [--limit N]
 *   switchboard status
 *
 * Every command takes --server (default $SWITCHBOARD_SERVER or http://localhost:8080), --token
 * (default $SWITCHBOARD_TOKEN: a JWT with the "deploy" scope) and --json. A change is sent with the
 * revision the command read just before (--expect REV pins it): if another change came first, it is
 * refused and nothing changes.
 */
import {readFileSync, existsSync, readdirSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import type {Change, DeployRecordInput} from '../lib/records.js';
import {ApiError, RegistryClient} from './client.js';

const USAGE = `usage:
  switchboard deploy <dir|URL> [--version V] [--canary PERCENT] [--cohort-header Name=value] [--cohort-cookie name=value]
  switchboard canary <app> --version V --percent P [--cohort-header Name=value] [--cohort-cookie name=value]
  switchboard promote <app>
  switchboard rollback <app> [--to V]
  switchboard history [app] [--limit N]
  switchboard status
options: --server URL (default $SWITCHBOARD_SERVER or http://localhost:8080), --token JWT (default $SWITCHBOARD_TOKEN), --expect REV, --json`;

class UsageError extends Error {}

/** Reads a deploy record from a build directory (`deploy.json`, or the newest `<version>-*` build in it) or a URL. */
async function readRecord(target: string, version: string | undefined): Promise<DeployRecordInput> {
  if (/^https?:\/\//.test(target)) {
    const response = await fetch(target, {signal: AbortSignal.timeout(30_000)});
    if (!response.ok) throw new UsageError(`${target}: HTTP ${response.status}`);
    const record = (await response.json()) as DeployRecordInput;
    // Module paths relative to the record's URL become absolute.
    const absolute = (u: string | undefined) => (u === undefined ? undefined : new URL(u, target).href);
    return {...record, module: absolute(record.module)!, ...(record.standalone === undefined ? {} : {standalone: absolute(record.standalone)!})};
  }
  let dir = resolve(target);
  if (!existsSync(dir)) throw new UsageError(`${target}: no such directory`);
  if (!existsSync(join(dir, 'deploy.json'))) {
    // dist/deploys/<app>: pick the newest build of --version.
    const builds = readdirSync(dir)
      .filter((d) => (version === undefined || d.startsWith(`${version}-`)) && existsSync(join(dir, d, 'deploy.json')))
      .sort((a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs);
    if (builds[0] === undefined) throw new UsageError(`${target}: no deploy.json${version === undefined ? '' : ` and no build of version ${version}`}; build the app first (npm run build:app -- <name> --version V)`);
    dir = join(dir, builds[0]);
  }
  const record = JSON.parse(readFileSync(join(dir, 'deploy.json'), 'utf8')) as DeployRecordInput;
  if (version !== undefined && record.version !== version) throw new UsageError(`${dir}/deploy.json is version ${record.version}, not ${version}`);
  return record;
}

function cohortOf(header: string | undefined, cookie: string | undefined): Record<string, string> | undefined {
  const pair = (text: string, what: string) => {
    const i = text.indexOf('=');
    if (i < 1) throw new UsageError(`--cohort-${what} takes name=value`);
    return [text.slice(0, i), text.slice(i + 1)] as const;
  };
  if (header !== undefined) {
    const [name, value] = pair(header, 'header');
    return {header: name, value};
  }
  if (cookie !== undefined) {
    const [name, value] = pair(cookie, 'cookie');
    return {cookie: name, value};
  }
  return undefined;
}

function percent(text: string | undefined, flag: string): number {
  const n = Number(text);
  if (text === undefined || !Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`${flag} takes a share from 0 to 100`);
  return n;
}

function describe(change: Change): string {
  const share = change.canary === undefined ? '' : ` to ${change.canary.percent}% of visitors${change.canary.cohort === undefined ? '' : ' and a cohort'}`;
  return `r${change.revision}  ${change.at}  ${change.action.padEnd(8)} ${change.name}@${change.version}${change.from === null ? '' : ` (was ${change.from})`} ${change.channel}${share}${change.by === undefined ? '' : ` by ${change.by}`}`;
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], print: (line: string) => void = console.log): Promise<number> {
  const {values, positionals} = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      server: {type: 'string'},
      token: {type: 'string'},
      version: {type: 'string'},
      canary: {type: 'string'},
      percent: {type: 'string'},
      'cohort-header': {type: 'string'},
      'cohort-cookie': {type: 'string'},
      to: {type: 'string'},
      limit: {type: 'string'},
      expect: {type: 'string'},
      json: {type: 'boolean'},
      help: {type: 'boolean', short: 'h'},
    },
  });
  const [command, target] = positionals;
  if (values.help === true || command === undefined) {
    print(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const token = values.token ?? process.env['SWITCHBOARD_TOKEN'];
  const client = new RegistryClient({server: values.server ?? process.env['SWITCHBOARD_SERVER'] ?? 'http://localhost:8080', ...(token === undefined || token === '' ? {} : {token})});
  const show = (result: {change: Change; revision: string}) => print(values.json === true ? JSON.stringify(result) : `${describe(result.change)}\nregistry now at revision ${result.revision}`);
  const expect = async () => values.expect ?? (await client.overview()).revision;
  const needApp = () => {
    if (target === undefined) throw new UsageError(`${command} needs an app name`);
    return target;
  };
  switch (command) {
    case 'deploy': {
      if (target === undefined) throw new UsageError('deploy needs a build directory or the URL of a deploy.json');
      const record = await readRecord(target, values.version);
      const cohort = cohortOf(values['cohort-header'], values['cohort-cookie']);
      const canary = values.canary === undefined && cohort === undefined ? undefined : {percent: values.canary === undefined ? 0 : percent(values.canary, '--canary'), ...(cohort === undefined ? {} : {cohort})};
      show(await client.deploy(record, {expect: await expect(), ...(canary === undefined ? {} : {canary})}));
      return 0;
    }
    case 'canary': {
      const name = needApp();
      if (values.version === undefined) throw new UsageError('canary needs --version');
      const cohort = cohortOf(values['cohort-header'], values['cohort-cookie']);
      show(await client.action(name, 'canary', {expect: await expect(), version: values.version, percent: percent(values.percent, '--percent'), ...(cohort === undefined ? {} : {cohort})}));
      return 0;
    }
    case 'promote':
      show(await client.action(needApp(), 'promote', {expect: await expect()}));
      return 0;
    case 'rollback':
      show(await client.action(needApp(), 'rollback', {expect: await expect(), ...(values.to === undefined ? {} : {to: values.to})}));
      return 0;
    case 'history': {
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      const changes = await client.history({...(target === undefined ? {} : {name: target}), ...(limit === undefined ? {} : {limit})});
      print(values.json === true ? JSON.stringify(changes) : changes.map(describe).join('\n') || '(no changes yet)');
      return 0;
    }
    case 'status': {
      const overview = await client.overview();
      if (values.json === true) print(JSON.stringify(overview));
      else {
        print(`revision ${overview.revision}, environment ${overview.environment}, overrides ${overview.overridesAllowed ? 'allowed' : 'refused'}`);
        for (const [name, app] of Object.entries(overview.apps)) {
          print(`  ${app.kind === 'shared' ? 'shared ' : ''}${name}@${app.stable ?? '-'}${app.canary === null ? '' : `  canary ${app.canary.version} at ${app.canary.percent}%`}  (${Object.keys(app.versions).length} versions)`);
        }
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

const invoked = process.argv[1] ?? '';
if (/switchboard(\.js)?$|cli[\\/]main\.(ts|js)$/.test(invoked)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`switchboard: ${(error as Error).message}\n${USAGE}`);
        process.exit(2);
      }
      if (error instanceof ApiError) {
        console.error(`switchboard: refused${error.status === 0 ? '' : ` (${error.status}${error.code === undefined ? '' : ` ${error.code}`})`}: ${error.message}`);
        process.exit(1);
      }
      console.error(`switchboard: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
