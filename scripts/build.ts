/**
 * `npm run build`: the kit's packages into packages/<name>/dist/ (what npm publishes), the shell into
 * dist/, then every app as a standalone module into dist/apps/.
 * One Vite build per app, because a standalone module must not share chunks with anything.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {precompress} from '@switchboard/hub';
import {build} from 'vite';
import config, {appNames, outDir, standaloneApp} from '../vite.config';
import {buildPackages} from './build-packages';
import {printSizes, shellScripts, sizeOf} from './transfer-report';

buildPackages();

await build({...config, configFile: false, logLevel: 'warn'});
for (const name of appNames()) await build(standaloneApp(name));

// dist/alone/<app>.html: each app alone on a plain page, one script tag and its element: how a
// team's app looks embedded in any site, and what the e2e tests load.
const {apps} = JSON.parse(readFileSync(resolve(outDir, 'manifest.json'), 'utf8')) as {apps: Array<{name: string; title: string; tag: string; module: string}>};
mkdirSync(resolve(outDir, 'alone'), {recursive: true});
for (const app of apps) {
  writeFileSync(
    resolve(outDir, 'alone', `${app.name}.html`),
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${app.title}, alone</title>
<script type="module" src="${app.module}"></script></head>
<body><${app.tag} hub="/hubs/events"></${app.tag}></body></html>
`,
  );
}
console.log(`built the shell and ${appNames().length} standalone apps into dist/`);

// Brotli and gzip beside every text file, so the server sends compressed bytes with no work per request.
await precompress(outDir);
const total = printSizes('Shell page JavaScript (what a first visit transfers; sent as brotli):', shellScripts(outDir).map((f) => sizeOf(outDir, f)));
console.log(`shell page JavaScript transferred: ${(total.brotli / 1024).toFixed(1)} KB brotli, ${(total.gzip / 1024).toFixed(1)} KB gzip (${(total.bytes / 1024).toFixed(1)} KB uncompressed)`);
printSizes('Standalone app bundles (one script tag, for embedding anywhere):', appNames().map((name) => sizeOf(outDir, `apps/${name}.js`)));
