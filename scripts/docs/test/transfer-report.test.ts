import {describe, expect, it} from 'vitest';
import {sizeReport, sizesMarkdown} from '../../transfer-report';

const kb = (file: string, bytes: number, gzip: number, brotli: number) => ({file, bytes: bytes * 1024, gzip: gzip * 1024, brotli: brotli * 1024});

describe('the size report the docs include', () => {
  const report = sizeReport(
    2,
    [kb('assets/index.js', 10, 4, 3), kb('assets/shared/lit.js', 20, 8, 7)],
    [kb('assets/apps/a-1.js', 5, 1.7, 1.5), kb('assets/apps/b-2.js', 6, 2.6, 2.2)],
    [kb('apps/a.js', 150, 55.5, 50), kb('apps/b.js', 160, 57, 52)],
  );

  it('adds up the shell page and, for comparison, every app as its standalone bundle', () => {
    expect(report.shellPage).toEqual(kb('shell page', 30, 12, 10));
    expect(report.standaloneTotal).toEqual(kb('standalone bundles', 310, 112.5, 102));
  });

  it('writes the numbers as regions a page includes, counting the apps instead of naming a number', () => {
    const md = sizesMarkdown(report);
    const region = (name: string) => new RegExp(`<!-- #region ${name} -->\\n([\\s\\S]*?)\\n<!-- #endregion ${name} -->`).exec(md)?.[1];
    expect(region('app-count')).toBe('2');
    expect(region('shell-brotli')).toBe('10.0 KB');
    expect(region('shared-app-gzip')).toBe('1.7–2.6 KB');
    expect(region('standalone-app-gzip')).toBe('55.5–57.0 KB');
    expect(region('transfer-table')?.split('\n')).toEqual([
      "| the shop's 2 apps, JavaScript of a first visit | raw | gzip | brotli (what is sent) |",
      '|---|---|---|---|',
      '| each app as its standalone bundle, added up | 310.0 KB | 112.5 KB | 102.0 KB |',
      "| the shell page: its scripts, the shared modules and each app's shared variant | 30.0 KB | 12.0 KB | **10.0 KB** |",
    ]);
  });
});
