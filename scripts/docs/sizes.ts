/**
 * `npm run docs:sizes`: makes sure the site has the build's sizes to include
 * (docs/generated/sizes.md): written from dist/sizes.json when only the Markdown is missing, and by
 * running `npm run build` when there is no build yet, so the site never shows numbers of another build.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {writeSizeReport, type SizeReport} from '../transfer-report';
import {repoRoot} from './markdown';

const markdown = join(repoRoot, 'docs', 'generated', 'sizes.md');
const json = join(repoRoot, 'dist', 'sizes.json');

if (!existsSync(markdown)) {
  if (!existsSync(json)) {
    console.log('docs: the size tables come from a build, and there is none yet: running npm run build');
    execFileSync('npm', ['run', 'build', '--silent'], {cwd: repoRoot, stdio: 'inherit'});
  } else {
    writeSizeReport(JSON.parse(readFileSync(json, 'utf8')) as SizeReport, join(repoRoot, 'dist'), join(repoRoot, 'docs'));
  }
}
