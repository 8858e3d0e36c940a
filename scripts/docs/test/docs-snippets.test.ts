import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {codeBlocks} from '../markdown';
import {checkSnippets, collectSnippets, formatProblems} from '../snippets';

const scratch = mkdtempSync(join(tmpdir(), 'docs-snippets-test-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

function write(path: string, text: string) {
  mkdirSync(dirname(join(scratch, path)), {recursive: true});
  writeFileSync(join(scratch, path), text);
}

describe('the TypeScript snippets of the docs', () => {
  it('all compile against the kit (and the runnable ones run)', {timeout: 180_000}, () => {
    const report = checkSnippets();
    expect(formatProblems(report.problems)).toBe('');
    expect(report.compiled).toBeGreaterThan(10);
    expect(report.ran).toBeGreaterThan(0);
  });
});

describe('the snippet check', () => {
  it('reads fences with their markers, in lists too', () => {
    const md = ['1. a step', '   <!-- snippet: skip needs a running server -->', '   ```ts runnable', '   const x = 1;', '   ```', '```js', 'y', '```'].join('\n');
    expect(codeBlocks(md)).toEqual([
      {lang: 'ts', flags: ['runnable'], line: 3, code: 'const x = 1;', marker: 'skip needs a running server'},
      {lang: 'js', flags: [], line: 6, code: 'y'},
    ]);
  });

  it('names the page and line of a snippet that does not compile or does not run, and wants a reason to skip one', {timeout: 180_000}, () => {
    mkdirSync(join(scratch, 'docs'), {recursive: true});
    writeFileSync(
      join(scratch, 'docs', 'page.md'),
      [
        '# A page', //                                                         1
        '```ts', //                                                            2
        "import {defineEvent} from '@switchboard/contracts';", //              3
        "import {z} from 'zod';", //                                           4
        "export const E = defineEvent({type: 'a.b', schema: z.object({n: z.number()})});", // 5
        '```', //                                                              6
        '```ts', //                                                            7
        'const n: number = "seven";', //                                       8
        '```', //                                                              9
        '<!-- snippet: skip -->', //                                          10
        '```ts', //                                                           11
        'nothing(here);', //                                                  12
        '```', //                                                             13
        '<!-- snippet: skip shows the shape only -->', //                     14
        '```ts', //                                                           15
        'nothing(here);', //                                                  16
        '```', //                                                             17
        '<!-- snippet: declare function greet(name: string): string; -->', // 18
        '```ts runnable', //                                                  19
        "if (greet('x') !== undefined) throw new Error('greet is only declared');", // 20
        '```', //                                                             21
      ].join('\n'),
    );
    const broken = checkSnippets(scratch, ['docs/page.md']);
    expect(broken.problems.map((p) => `${p.file}:${p.line}: ${p.message.split(':')[0]}`)).toEqual([
      'docs/page.md:11: a skipped snippet needs a reason',
      'docs/page.md:8: TS2322',
    ]);
    expect(broken.skipped).toEqual([{file: 'docs/page.md', line: 15, reason: 'shows the shape only'}]);
    expect(broken.ran).toBe(0); // nothing runs while anything fails to compile

    writeFileSync(
      join(scratch, 'docs', 'page.md'),
      ['```ts runnable', "console.log('fine');", '```', '', '```ts runnable', "throw new Error('the snippet broke');", '```'].join('\n'),
    );
    const run = checkSnippets(scratch, ['docs/page.md']);
    expect(run.ran).toBe(2);
    expect(run.problems).toHaveLength(1);
    expect(run.problems[0]).toMatchObject({file: 'docs/page.md', line: 5});
    expect(run.problems[0]!.message).toContain('the snippet broke');
  });
});

describe('files a page names', () => {
  it('are one project across pages: the same path shown twice must be the same text', () => {
    write('docs/a.md', ['In `src/a.ts`:', '```ts [src/a.ts]', 'export const a = 1;', '```'].join('\n'));
    write('docs/b.md', ['In `src/a.ts`:', '```ts [src/a.ts]', 'export const a = 2;', '```', 'In `src/b.ts`:', '```ts [src/b.ts]', "import {a} from './a.js';", '```'].join('\n'));
    const {snippets, problems} = collectSnippets(['docs/a.md', 'docs/b.md'], scratch);
    expect(snippets.map((s) => s.path)).toEqual(['src/a.ts', 'src/b.ts']);
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual(['docs/b.md:2: src/a.ts is shown with other text at docs/a.md:2: a reader cannot write both']);
  });
});
