/**
 * What `npm run docs` (VitePress) would refuse, checked without building the site: VitePress turns
 * every page into a Vue single-file component (`<template><div>{html}</div></template>`) and fails
 * the build on a template the Vue compiler rejects (`{{` in prose, an unclosed `<tag>`) or on a dead
 * internal link. This does the same for every page of the site, with VitePress's own config, its own
 * Markdown renderer (same plugins, same link collection) and Vue's own template compiler, in a few
 * seconds instead of a full client and server build.
 *
 * `npm run docs:site` runs it alone; `scripts/docs/test/docs-site.test.ts` runs it in `npm test`.
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createMarkdownRenderer, resolveConfig} from 'vitepress';
import {compileTemplate} from 'vue/compiler-sfc';
import {repoRoot} from './markdown';

/** A page VitePress would not build, and why. */
export interface SiteProblem {
  readonly file: string;
  readonly message: string;
}

/** What the check saw. */
export interface SiteReport {
  readonly pages: number;
  readonly problems: readonly SiteProblem[];
}

/** Mirrors VitePress's `treatAsHtml`: a link to a page, not to an asset. */
function isPageLink(pathname: string): boolean {
  const ext = /\.([a-z0-9]+)$/i.exec(pathname)?.[1]?.toLowerCase();
  return ext === undefined || ['html', 'md'].includes(ext);
}

/** Checks every page of the site rooted at `docsDir`, with that site's `.vitepress/config`. */
export async function checkSite(docsDir = join(repoRoot, 'docs')): Promise<SiteReport> {
  const config = await resolveConfig(docsDir, 'build', 'production');
  const md = await createMarkdownRenderer(config.srcDir, config.markdown, config.site.base, config.logger);
  // `npm run docs` has TypeDoc write api/ (its entry file api/index.md) before VitePress reads the pages.
  const generated = existsSync(join(docsDir, 'typedoc.config.mjs')) ? ['api/index'] : [];
  const pages = [...config.pages.map((p) => p.replace(/\.md$/, '')), ...generated];
  const problems: SiteProblem[] = [];
  const ignoreLocalhost = config.ignoreDeadLinks === 'localhostLinks';
  for (const page of config.pages) {
    const file = join(config.srcDir, page);
    const env: {path: string; relativePath: string; cleanUrls: boolean; links?: string[]} = {path: file, relativePath: page, cleanUrls: config.cleanUrls ?? false};
    let html: string;
    try {
      html = md.render(readFileSync(file, 'utf8'), env);
    } catch (error) {
      problems.push({file: relative(repoRoot, file), message: `Markdown: ${(error as Error).message}`});
      continue;
    }
    // The same template VitePress hands to the Vue compiler (plugin-vue) for the page.
    const {errors} = compileTemplate({source: `<div>${html}</div>`, filename: page, id: page});
    for (const error of errors) {
      const text = typeof error === 'string' ? error : error.message;
      const near = typeof error === 'string' || !('loc' in error) || error.loc === undefined ? '' : `, near "${error.loc.source.slice(0, 60)}"`;
      problems.push({file: relative(repoRoot, file), message: `Vue template: ${text}${near}`});
    }
    for (const url of env.links ?? []) {
      if (!isPageLink(new URL(url, 'http://a.com').pathname)) continue;
      let target = url.replace(/[?#].*$/, '').replace(/\.(html|md)$/, '');
      if (target.endsWith('/')) target += 'index';
      const resolved = decodeURIComponent((target.startsWith('/') ? target.slice(1) : relative(config.srcDir, resolve(dirname(file), target))).replaceAll('\\', '/'));
      const ignored = config.ignoreDeadLinks === true || (ignoreLocalhost && url.replace(/^[a-z]+:/i, '').startsWith('//localhost'));
      if (!pages.includes(resolved) && !existsSync(join(config.srcDir, 'public', `${resolved}.html`)) && !ignored) {
        problems.push({file: relative(repoRoot, file), message: `dead link ${url} (VitePress refuses to build with it)`});
      }
    }
  }
  return {pages: config.pages.length, problems};
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await checkSite();
  console.log(`${report.pages} pages rendered and compiled as VitePress builds them`);
  if (report.problems.length > 0) {
    console.error(report.problems.map((p) => `${p.file}: ${p.message}`).join('\n'));
    process.exitCode = 1;
  }
}
