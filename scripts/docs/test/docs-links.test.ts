import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {checkLinks, pagesOutsideNavigation} from '../links';
import {checkMarkup, markupProblems} from '../markup';
import {anchors, slugify} from '../markdown';

const scratch = mkdtempSync(join(tmpdir(), 'docs-links-test-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

function write(path: string, text: string) {
  mkdirSync(dirname(join(scratch, path)), {recursive: true});
  writeFileSync(join(scratch, path), text);
}

describe('the links of the docs', () => {
  it('all resolve, anchors included', () => {
    expect(checkLinks().map((p) => `${p.file}:${p.line}: ${p.target}: ${p.message}`)).toEqual([]);
  });

  it('lead to every page: each one is in the sidebar of docs/.vitepress/config.ts', () => {
    expect(pagesOutsideNavigation()).toEqual([]);
  });
});

describe('the prose of the docs', () => {
  it('has nothing the site build would read as an element or an interpolation', () => {
    expect(checkMarkup().map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
  });

  it('flags placeholders and tags outside code, and only there', () => {
    const page = [
      'start it with PAGE_TOKEN_TTL=<seconds> and `PORT=<port>`', // 1: the first is read as a tag
      'a `code span that runs', //                                   2
      'over a line <break>` and <shop-feed> after it', //            3: only the second
      '<!-- <not-this> --> <https://example.com/x> <br> <iframe src="x"></iframe>', // 4: fine
      '```html', //                                                   5
      '<my-element></my-element> {{ x }}', //                         6: code
      '```', //                                                       7
      'a port of {{PORT}}', //                                        8
      'fenced as `` ```ts <not-a-tag> `` and then <another>', //        9: only the second
    ].join('\n');
    expect(markupProblems('p.md', page).map((p) => `${p.line}: ${p.message.split(' ')[0]}`)).toEqual(['1: "<seconds>"', '3: "<shop-feed>"', '8: "{{"', '9: "<another>"']);
  });
});

describe('the link check', () => {
  it('makes anchors as VitePress does', () => {
    expect(slugify("The hub's wire contract")).toBe('the-hub-s-wire-contract');
    expect(slugify('Page bus vs EventTarget + CustomEvent, mitt')).toBe('page-bus-vs-eventtarget-customevent-mitt');
    expect([...anchors('# A\n## `code` and [a link](x.md)\n## Again\n## Again\n```sh\n# not a heading\n```\n## Custom {#mine}\n<div id="raw"></div>')]).toEqual([
      'a',
      'code-and-a-link',
      'again',
      'again-1',
      'mine',
      'raw',
    ]);
  });

  it('reports each link that names no file or no heading, docs links that leave docs/, and includes of nothing', () => {
    write('README.md', '[docs](docs/index.md) [gone](docs/gone.md) [license](LICENSE)\n');
    write('LICENSE', 'MIT\n');
    write('docs/index.md', '# Home\n\n[guide](./guide/a.md#a-heading) [clean](/guide/a#a-heading) [bad anchor](guide/a.md#nope)\n');
    write(
      'docs/guide/a.md',
      '# A heading\n\n![chart](../bench/x.svg) [out](../../LICENSE) [top](#a-heading) [self](#missing) [api](/api/) [web](https://example.com/#x)\n`[not](a-link.md)`\n' +
        '<!--@include: ../generated/sizes.md#transfer-table--> <!--@include: ../generated/sizes.md#no-such-region--> <!--@include: ./gone.md-->\n',
    );
    expect(checkLinks(scratch).map((p) => `${p.file}:${p.line}: ${p.target}: ${p.message}`)).toEqual([
      'README.md:1: docs/gone.md: no such file: docs/gone.md',
      'docs/guide/a.md:3: ../bench/x.svg: no such file: docs/bench/x.svg',
      'docs/guide/a.md:3: ../../LICENSE: links outside docs/, which the site does not have (link to the repository by URL instead)',
      'docs/guide/a.md:3: #missing: no heading or id "#missing" in docs/guide/a.md',
      'docs/guide/a.md:5: ../generated/sizes.md#no-such-region: no region "no-such-region" in docs/generated/sizes.md',
      'docs/guide/a.md:5: ./gone.md: includes a file that does not exist: docs/guide/gone.md',
      'docs/index.md:3: guide/a.md#nope: no heading or id "#nope" in docs/guide/a.md',
    ]);
  });
});
