import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {codeBlocks} from '../markdown';
import {checkSnippets, formatProblems} from '../snippets';

const scratch = mkdtempSync(join(tmpdir(), 'docs-snippets-test-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

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
