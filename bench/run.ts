/** `npm run bench`: every benchmark, one after another, each printing its own tables. */
import {spawnSync} from 'node:child_process';

for (const script of ['bench/bus/run.ts', 'bench/broadcast/run.ts', 'bench/resume/run.ts']) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], {stdio: 'inherit'});
  if (run.status !== 0) process.exit(run.status ?? 1);
}
