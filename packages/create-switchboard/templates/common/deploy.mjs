// npm run deploy -- --to <folder>: copies the built page (dist/) to <folder>/<name>/<version>/ and
// then points <folder>/<name>/current.json at it, so a host that reads current.json switches to
// the new version in one step and the old version stays in place for a rollback.
// The folder defaults to $DEPLOY_DIR, else ./deployed. Run `npm run build` first (npm run deploy does).
import {cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';

const {values} = parseArgs({options: {to: {type: 'string'}}});
const target = resolve(values.to ?? process.env.DEPLOY_DIR ?? 'deployed');
const {name, version} = JSON.parse(readFileSync('package.json', 'utf8'));
if (!existsSync('dist/index.html')) {
  console.error('deploy: nothing built in dist/: run npm run build first (npm run deploy does)');
  process.exit(1);
}
const release = join(target, name, version);
mkdirSync(release, {recursive: true});
cpSync('dist', release, {recursive: true});
const pointer = join(target, name, 'current.json');
writeFileSync(`${pointer}.tmp`, `${JSON.stringify({name, version, page: `${version}/index.html`, deployedAt: new Date().toISOString()}, null, 2)}\n`);
renameSync(`${pointer}.tmp`, pointer);
console.log(`deploy: ${name}@${version} -> ${release}`);
