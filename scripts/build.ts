/**
 * `npm run build`: the shell into dist/, then every app as a standalone module into dist/apps/.
 * One Vite build per app, because a standalone module must not share chunks with anything.
 */
import {build} from 'vite';
import config, {appNames, standaloneApp} from '../vite.config';

await build({...config, configFile: false, logLevel: 'warn'});
for (const name of appNames()) await build(standaloneApp(name));
console.log(`built the shell and ${appNames().length} standalone apps into dist/`);
