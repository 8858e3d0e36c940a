/**
 * `npm run build`: the shell into dist/, then every app as a standalone module into dist/apps/.
 * One Vite build per app, because a standalone module must not share chunks with anything.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {build} from 'vite';
import config, {appNames, outDir, standaloneApp} from '../vite.config';

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
<body><main><h1>${app.title}</h1><${app.tag} hub="/hubs/events"></${app.tag}></main></body></html>
`,
  );
}
console.log(`built the shell and ${appNames().length} standalone apps into dist/`);
