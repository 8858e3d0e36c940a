/**
 * `npm run build:app -- <name> [--version V]`: one app, both variants (the shared one, importing lit,
 * zod and the kit by bare name, and the self-contained standalone one), into an immutable folder
 * dist/deploys/<name>/<version>-<hash>/ with its deploy record (deploy.json, with integrity). The
 * folder appears whole (built aside, then renamed) and is never written again; deploying it is
 * the registry's call: `npx switchboard deploy dist/deploys/<name>/<version>-<hash>`.
 * Needs the shared modules of a full `npm run build` (or deployed ones) to resolve its ranges.
 */
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {precompress} from '@switchboard/hub';
import {sri, type DeployRecordInput} from '@switchboard/registry';
import {build, type UserConfig} from 'vite';
import {appNames, outDir, standaloneApp} from '../vite.config';
import {baseConfig, chunkOf, rangesOf, SHARED, sharedImports} from './federation/build-shared';

const {values, positionals} = parseArgs({args: process.argv.slice(2), allowPositionals: true, options: {version: {type: 'string'}}});
const name = positionals[0];
if (name === undefined || !appNames().includes(name)) {
  console.error(`usage: npm run build:app -- <name> [--version V]   (apps: ${appNames().join(', ')})`);
  process.exit(2);
}
const appDir = resolve('apps', name);
const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {version?: string; switchboard?: Partial<DeployRecordInput>};
const version = values.version ?? pkg.version ?? '0.0.0';
// Title, tag and what it publishes: the demo's catalog (shell/public/manifest.json), or the app's package.json "switchboard" field.
const catalog = (JSON.parse(readFileSync(resolve('shell/public/manifest.json'), 'utf8')) as {apps: Array<Partial<DeployRecordInput>>}).apps.find((a) => a.name === name) ?? {};
const about = {...catalog, ...pkg.switchboard};
if (about.tag === undefined) throw new Error(`${name}: no custom element tag in shell/public/manifest.json nor in apps/${name}/package.json "switchboard"`);

const root = resolve(outDir, 'deploys', name);
const staging = join(root, `.staging-${process.pid}`);
rmSync(staging, {recursive: true, force: true});
mkdirSync(staging, {recursive: true});
try {
  const chunk = chunkOf(await build(baseConfig(staging, join(appDir, 'src/index.ts'), `${name}.js`, SHARED)));
  const requires = rangesOf(appDir, sharedImports(chunk));
  const standalone = standaloneApp(name) as UserConfig & {build: NonNullable<UserConfig['build']>};
  await build({...standalone, build: {...standalone.build, outDir: staging, lib: {...(standalone.build.lib as object), entry: join(appDir, 'src/index.ts'), formats: ['es'], fileName: () => `${name}.standalone.js`}}} as UserConfig);
  const shared = readFileSync(join(staging, `${name}.js`));
  const alone = readFileSync(join(staging, `${name}.standalone.js`));
  const hash = createHash('sha256').update(shared).update(alone).digest('hex').slice(0, 10);
  const folder = `${version}-${hash}`;
  const final = join(root, folder);
  const base = `/deploys/${name}/${folder}`;
  const record: DeployRecordInput = {
    kind: 'app',
    name,
    version,
    title: about.title ?? name,
    tag: about.tag,
    module: `${base}/${name}.js`,
    integrity: sri(shared),
    standalone: `${base}/${name}.standalone.js`,
    standaloneIntegrity: sri(alone),
    requires,
    publishes: about.publishes ?? [],
    consumes: about.consumes ?? [],
    remountable: about.remountable ?? false,
  };
  writeFileSync(join(staging, 'deploy.json'), `${JSON.stringify(record, null, 2)}\n`);
  await precompress(staging);
  if (existsSync(final)) {
    // The same bytes were built before: the folder is immutable, keep it.
    rmSync(staging, {recursive: true, force: true});
    console.log(`${name}@${version}: unchanged, already in dist/deploys/${name}/${folder}`);
  } else {
    renameSync(staging, final);
    console.log(`${name}@${version} built into dist/deploys/${name}/${folder}`);
  }
  console.log(`deploy it: npx switchboard deploy dist/deploys/${name}/${folder} [--server URL] [--token JWT]`);
  const others = readdirSync(root).filter((d) => !d.startsWith('.') && d !== folder);
  if (others.length > 0) console.log(`earlier builds kept (still served): ${others.join(', ')}`);
} catch (error) {
  rmSync(staging, {recursive: true, force: true});
  throw error;
}
