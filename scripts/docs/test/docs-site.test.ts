import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {checkSite} from '../site';

const scratch = mkdtempSync(join(tmpdir(), 'docs-site-test-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

function write(path: string, text: string) {
  mkdirSync(dirname(join(scratch, path)), {recursive: true});
  writeFileSync(join(scratch, path), text);
}

describe('the site as VitePress builds it', () => {
  it('every page renders to a Vue template that compiles, with no dead internal link', {timeout: 60_000}, async () => {
    const report = await checkSite();
    expect(report.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([]);
    expect(report.pages).toBeGreaterThan(20);
  });

  it('names a page that would fail the build: an interpolation, an unclosed element, a dead link', {timeout: 60_000}, async () => {
    write('index.md', '# Home\n\n[fine](./guide.md) · [localhost is allowed](http://localhost:8080/x)\n');
    write('guide.md', '# Guide\n\nThe handler returns {{ nothing.\n');
    write('broken.md', '# Broken\n\nA <tag-name> left open, and [a page that is not there](./missing.md).\n');
    write('.vitepress/config.mjs', "export default {ignoreDeadLinks: 'localhostLinks'};\n");
    const {problems} = await checkSite(scratch);
    const lines = problems.map((p) => `${p.file.split('/').pop()}: ${p.message}`);
    expect(lines.some((l) => l.startsWith('guide.md: Vue template:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('broken.md: Vue template:') && l.includes('missing end tag'))).toBe(true);
    expect(lines).toContain('broken.md: dead link ./missing (VitePress refuses to build with it)');
    expect(lines.filter((l) => l.startsWith('index.md'))).toEqual([]);
  });
});
