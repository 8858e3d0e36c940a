import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {WALK_PAGES, walkSteps} from '../consumer-walk';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fence = '```';

describe('walkSteps: what a getting-started page tells a reader to do', () => {
  it('reads files to write and shell lines to run, in page order, with their markers', () => {
    const page = [
      'Make the folder:',
      '',
      `${fence}sh`,
      'mkdir app   # a comment stays: bash reads it',
      'cd app',
      '',
      `${fence}`,
      'The contract, in `src/contract.ts`:',
      '',
      `${fence}ts [src/contract.ts]`,
      'export const x = 1;',
      `${fence}`,
      '<!-- walk: skip it starts a registry the test already runs -->',
      `${fence}sh`,
      'npm run registry',
      `${fence}`,
      '<!-- walk: serve, open it following "greetings" -->',
      `${fence}sh`,
      'node server.mjs',
      `${fence}`,
      '<!-- walk: then the page shows "hello" -->',
      `${fence}sh`,
      'curl -X POST http://127.0.0.1:8080/api \\',
      "  -d '{}'",
      `${fence}`,
      `${fence}ts`,
      'const illustration = true;',
      `${fence}`,
    ].join('\n');
    expect(walkSteps(page, 'p.md')).toEqual([
      {kind: 'shell', page: 'p.md', line: 3, script: 'mkdir app   # a comment stays: bash reads it\ncd app\n'},
      {kind: 'file', page: 'p.md', line: 10, path: 'src/contract.ts', text: 'export const x = 1;\n'},
      {kind: 'shell', page: 'p.md', line: 18, script: 'node server.mjs\n', serve: {topic: 'greetings'}},
      {kind: 'shell', page: 'p.md', line: 22, script: "curl -X POST http://127.0.0.1:8080/api \\\n  -d '{}'\n", shows: 'hello'},
    ]);
  });

  it('refuses a file block whose file the text above does not name: the reader would have to guess', () => {
    expect(() => walkSteps(`Then this:\n\n${fence}ts [src/a.ts]\nx\n${fence}`, 'p.md')).toThrow('p.md:3: the text before the block of src/a.ts must name it');
  });

  it('refuses a skip without a reason, an unknown marker, and a path out of the project', () => {
    expect(() => walkSteps(`<!-- walk: skip -->\n${fence}sh\nx\n${fence}`, 'p.md')).toThrow('needs a reason');
    expect(() => walkSteps(`<!-- walk: maybe -->\n${fence}sh\nx\n${fence}`, 'p.md')).toThrow('unknown walk marker');
    expect(() => walkSteps(`In \`../x.ts\`:\n${fence}ts [../x.ts]\nx\n${fence}`, 'p.md')).toThrow('relative path inside the project');
  });

  it('finds in the real pages a project to make, a page, a server to start, an event to see and a test to run', () => {
    const steps = WALK_PAGES.flatMap((page) => walkSteps(readFileSync(resolve(root, page), 'utf8'), page));
    expect(steps.filter((s) => s.kind === 'file').map((s) => s.path)).toEqual([
      'src/contract.ts', 'src/hello-board.ts', 'index.html', 'server.mjs', 'playwright.config.ts', 'tests/hello.spec.ts',
    ]);
    const lines = steps.flatMap((s) => (s.kind === 'shell' ? s.script.split('\n') : []));
    expect(lines).toEqual(expect.arrayContaining(['npm config set registry http://127.0.0.1:4873/ --location=project', 'npx vite build', 'node server.mjs', 'npx playwright test']));
    expect(steps.some((s) => s.kind === 'shell' && s.serve !== undefined)).toBe(true);
    expect(steps.some((s) => s.kind === 'shell' && s.shows !== undefined)).toBe(true);
  });
});
