#!/usr/bin/env node
// The `switchboard` command: the compiled CLI when the package is built (as installed from npm);
// inside the repository before a build, its TypeScript source through tsx.
import {existsSync} from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const {register} = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
