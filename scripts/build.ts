/**
 * `npm run build`:
 * 1. the kit's packages into packages/<name>/dist/ (what npm publishes);
 * 2. the shared packages (lit, zod, @microsoft/signalr, the kit's runtime) once each, and every app
 *    as a "shared" variant importing them by bare name, into dist/assets/ (content-hashed);
 * 3. the shell into dist/, its page carrying the import map that resolves those bare names (one
 *    version per compatible range; an app needing another major gets a scope), and its manifest
 *    pointing at the shared variants;
 * 4. every app as a standalone module into dist/apps/ (everything inside; one script tag embeds it
 *    anywhere), and dist/alone/<app>.html pages showing that;
 * 5. brotli and gzip beside every text file, and a report of what the shell page transfers.
 * One Vite build per app and variant, because a standalone module must not share chunks with anything.
 */
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {precompress} from '@switchboard/hub';
import {build} from 'vite';
import config, {appNames, outDir, standaloneApp} from '../vite.config';
import {buildPackages} from './build-packages';
import {buildSharedApp, buildSharedPackages, SHARED} from './federation/build-shared';
import type {Resolution, SharedRequirement} from './federation/import-map';
import {sharedImportMap} from './federation/shell-plugin';
import {printSizes, shellScripts, sizeOf, sizeReport, writeSizeReport} from './transfer-report';

buildPackages();

rmSync(outDir, {recursive: true, force: true});
const {builds, requirements: packageRequirements} = await buildSharedPackages();
const shared: SharedRequirement[] = [];
for (const name of appNames()) shared.push(await buildSharedApp(name));

let resolution: Resolution | undefined;
await build({
  ...config,
  configFile: false,
  logLevel: 'warn',
  plugins: [sharedImportMap([...packageRequirements, ...shared], builds, (r) => (resolution = r))],
  build: {...config.build, emptyOutDir: false, rolldownOptions: {external: [...SHARED]}},
});
if (resolution === undefined) throw new Error('the shell build produced no page to put the import map in');
for (const {name, reason} of resolution.unresolved) console.warn(`shared: ${name} falls back to its standalone bundle: ${reason}`);
const unresolved = new Set(resolution.unresolved.map((u) => u.name));

for (const name of appNames()) await build(standaloneApp(name));

// The manifest: the shell loads each app's shared variant (or, if nothing satisfies its ranges, its
// standalone bundle); `standalone` stays for pages that embed one app with one script tag.
type Entry = {name: string; title: string; tag: string; module: string; standalone?: string; requires?: Record<string, string>};
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
const shellPage = shellScripts(outDir, Object.values(resolution.importMap.imports).map((url) => url.replace(/^\//, ''))).map((f) => sizeOf(outDir, f));
const total = printSizes(`Shell page JavaScript with ${manifest.apps.length} apps (what a first visit transfers; sent as brotli):`, shellPage);
console.log(`shell page JavaScript transferred: ${(total.brotli / 1024).toFixed(1)} KB brotli, ${(total.gzip / 1024).toFixed(1)} KB gzip (${(total.bytes / 1024).toFixed(1)} KB uncompressed)`);
const sharedApps = shared.map((s) => sizeOf(outDir, s.module.replace(/^\//, '')));
const standaloneApps = appNames().map((name) => sizeOf(outDir, `apps/${name}.js`));
printSizes('Apps, shared variant (lit, zod, SignalR and the kit come from the import map):', sharedApps);
printSizes('Apps, standalone bundle (one script tag, for embedding anywhere):', standaloneApps);
// The docs include these numbers (docs/generated/sizes.md), so they are always this build's.
const onPage = (s: {file: string}) => manifest.apps.some((a) => s.file.includes(`/${a.name}.js`) || s.file.includes(`/${a.name}-`));
writeSizeReport(sizeReport(manifest.apps.length, shellPage, sharedApps.filter(onPage), standaloneApps.filter(onPage)), outDir, resolve(outDir, '..', 'docs'));
