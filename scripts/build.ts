/**
 * `npm run build`:
 * 1. the kit's packages into packages/<name>/dist/ (what npm publishes);
 * 2. the shared packages (lit, zod, @microsoft/signalr, the kit's runtime) once each, and every app
 *    as a "shared" variant importing them by bare name, into dist/assets/ (content-hashed);
 * 3. the shell into dist/; its page carries no import map: the server's deploy registry writes the
 *    composition and the import map into each page when it is requested;
 * 4. every app as a standalone module into dist/apps/ (everything inside; one script tag embeds it
 *    anywhere), and dist/alone/<app>.html pages showing that;
 * 5. dist/registry-seed.json: every shared module and app as a deploy record (with its integrity),
 *    which a server deploys on start when the build changed; dist/importmap.json, the import map
 *    the build alone would resolve (for static hosting and for reading);
 * 6. brotli and gzip beside every text file, and a report of what the shell page transfers.
 * Hashed files of the previous build stay (pages already open keep loading), older ones go; so
 * do per-app deploys in dist/deploys/ (`npm run build:app`).
 * One Vite build per app and variant, because a standalone module must not share chunks with anything.
 */
import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {precompress} from '@switchboard/hub';
import {resolveShared, sri, type DeployRecordInput, type SeedFile, type SharedRequirement} from '@switchboard/registry';
import {build} from 'vite';
import config, {appNames, outDir, standaloneApp} from '../vite.config';
import {buildPackages} from './build-packages';
import {buildSharedApp, buildSharedPackages, installedVersion, SHARED, shellRequirement} from './federation/build-shared';
import {assetsSince, pruneGenerations} from './federation/generations';
import {shellEntry, type ShellEntry} from './federation/shell-plugin';
import {printSizes, shellScripts, sizeOf, sizeReport, writeSizeReport} from './transfer-report';

buildPackages();

const started = Date.now() - 1000;
const {builds, requirements: packageRequirements} = await buildSharedPackages();
const shared: SharedRequirement[] = [];
for (const name of appNames()) shared.push(await buildSharedApp(name));

let entry: ShellEntry | undefined;
await build({
  ...config,
  configFile: false,
  logLevel: 'warn',
  plugins: [shellEntry((e) => (entry = e))],
  build: {...config.build, emptyOutDir: false, rolldownOptions: {external: [...SHARED]}},
});
if (entry === undefined) throw new Error('the shell build produced no entry module');
const shell = {...shellRequirement(entry.imports), module: entry.module};
const resolution = resolveShared([shell, ...packageRequirements, ...shared], builds);
for (const {name, reason} of resolution.unresolved) console.warn(`shared: ${name} falls back to its standalone bundle: ${reason}`);
const unresolved = new Set(resolution.unresolved.map((u) => u.name));

for (const name of appNames()) await build(standaloneApp(name));

// The manifest: the shell loads each app's shared variant (or, if nothing satisfies its ranges, its
// standalone bundle); `standalone` stays for pages that embed one app with one script tag.
type Entry = {name: string; title: string; tag: string; module: string; standalone?: string; requires?: Record<string, string>; publishes?: string[]; consumes?: string[]; remountable?: boolean};
const manifestPath = resolve(outDir, 'manifest.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {apps: Entry[]};
for (const app of manifest.apps) {
  const variant = shared.find((s) => s.name === app.name);
  app.standalone = app.module;
  if (variant !== undefined && !unresolved.has(app.name)) {
    app.module = variant.module;
    app.requires = {...variant.requires};
  }
}
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(resolve(outDir, 'importmap.json'), `${JSON.stringify(resolution.importMap, null, 2)}\n`);

// The registry's seed: each file's integrity, and a version per build (`<package version>+<hash>`),
// so a rebuild with other bytes is a new version, never the old one changed.
const bytesOf = (url: string) => readFileSync(resolve(outDir, url.replace(/^\//, '')));
const hash8 = (...urls: string[]) => urls.reduce((h, u) => h.update(bytesOf(u)), createHash('sha256')).digest('hex').slice(0, 8);
const appVersion = (name: string) => (JSON.parse(readFileSync(resolve('apps', name, 'package.json'), 'utf8')) as {version?: string}).version ?? '0.0.0';
const records: DeployRecordInput[] = [
  ...packageRequirements.map((r) => {
    const version = `${installedVersion(r.name)}+${hash8(r.module)}`;
    return {kind: 'shared' as const, name: r.name, version, module: r.module, integrity: sri(bytesOf(r.module)), requires: {...r.requires}};
  }),
  ...manifest.apps.map((app) => ({
    kind: 'app' as const,
    name: app.name,
    version: `${appVersion(app.name)}+${hash8(app.module, app.standalone!)}`,
    title: app.title,
    tag: app.tag,
    module: app.module,
    integrity: sri(bytesOf(app.module)),
    standalone: app.standalone!,
    standaloneIntegrity: sri(bytesOf(app.standalone!)),
    requires: app.requires ?? {},
    publishes: app.publishes ?? [],
    consumes: app.consumes ?? [],
    remountable: app.remountable ?? false,
  })),
];
const seed: SeedFile = {
  build: createHash('sha256').update(JSON.stringify([shell, records])).digest('hex').slice(0, 16),
  shell: {module: shell.module, requires: shell.requires, preload: [...entry.imports]},
  records,
};

// dist/alone/<app>.html: each app alone on a plain page, one script tag and its element: how a
// team's app looks embedded in any site, and what the e2e tests load.
mkdirSync(resolve(outDir, 'alone'), {recursive: true});
for (const app of manifest.apps) {
  writeFileSync(
    resolve(outDir, 'alone', `${app.name}.html`),
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="switchboard-token-url" content="/auth/token"><title>${app.title}, alone</title>
<script type="module" src="${app.standalone}"></script></head>
<body><main><h1>${app.title}</h1><${app.tag} hub="/hubs/events"></${app.tag}></main></body></html>
`,
  );
}
console.log(`built the shell, ${Object.keys(builds).length} shared packages, and ${appNames().length} apps (shared and standalone) into dist/`);
console.log(`shared versions: ${Object.entries(resolution.chosen).map(([pkg, v]) => `${pkg}@${v}`).join(', ')}`);

// Brotli and gzip beside every text file, so the server sends compressed bytes with no work per request.
await precompress(outDir);
const removed = pruneGenerations(outDir, assetsSince(outDir, started));
if (removed > 0) console.log(`removed ${removed} hashed files of builds before the previous one`);
// Last, once every file it names is in place: a running server deploys the build when this file changes.
writeFileSync(resolve(outDir, 'registry-seed.json'), `${JSON.stringify(seed, null, 2)}\n`);
const shellPage = shellScripts(outDir, Object.values(resolution.importMap.imports).map((url) => url.replace(/^\//, '')), assetsSince(outDir, started)).map((f) => sizeOf(outDir, f));
const total = printSizes(`Shell page JavaScript with ${manifest.apps.length} apps (what a first visit transfers; sent as brotli):`, shellPage);
console.log(`shell page JavaScript transferred: ${(total.brotli / 1024).toFixed(1)} KB brotli, ${(total.gzip / 1024).toFixed(1)} KB gzip (${(total.bytes / 1024).toFixed(1)} KB uncompressed)`);
const sharedApps = shared.map((s) => sizeOf(outDir, s.module.replace(/^\//, '')));
const standaloneApps = appNames().map((name) => sizeOf(outDir, `apps/${name}.js`));
printSizes('Apps, shared variant (lit, zod, SignalR and the kit come from the import map):', sharedApps);
printSizes('Apps, standalone bundle (one script tag, for embedding anywhere):', standaloneApps);
// The docs include these numbers (docs/generated/sizes.md), so they are always this build's.
const onPage = (s: {file: string}) => manifest.apps.some((a) => s.file.includes(`/${a.name}.js`) || s.file.includes(`/${a.name}-`));
writeSizeReport(sizeReport(manifest.apps.length, shellPage, sharedApps.filter(onPage), standaloneApps.filter(onPage)), outDir, resolve(outDir, '..', 'docs'));
