/**
 * Prose the site cannot build: VitePress compiles every page as a Vue template, so a `<name>`
 * placeholder or a custom element's tag written in running text (not in backticks) is taken for
 * an element ("Element is missing end tag" fails the whole build), and `{{ … }}` for an
 * interpolation. This finds them in the pages' prose, each at its line, before a site build does.
 */
import {docPages, readPage, repoRoot} from './markdown';

/** What a page may write as HTML in its prose. */
const allowedTags = new Set([
  'a', 'abbr', 'b', 'br', 'code', 'dd', 'details', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'hr', 'i', 'iframe', 'img',
  'kbd', 'li', 'ol', 'p', 'pre', 'small', 'span', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
]);

/** A piece of prose the site would not build. */
export interface MarkupProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** The problems of one page's text. */
export function markupProblems(file: string, markdown: string): MarkupProblem[] {
  const problems: MarkupProblem[] = [];
  let fence: string | null = null;
  let codeRun = 0; // the backticks that opened the code span we are in; it may run over a line break, never a blank line
  markdown.split('\n').forEach((text, i) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(text);
    if (fence !== null) {
      if (open && text.trim().startsWith(fence)) fence = null;
      return;
    }
    if (open) {
      fence = open[1]!;
      return;
    }
    if (text.trim() === '') codeRun = 0;
    let prose = '';
    for (const part of text.split(/(`+)/)) {
      // A code span ends only at a run of as many backticks as opened it.
      if (part.startsWith('`')) codeRun = codeRun === 0 ? part.length : codeRun === part.length ? 0 : codeRun;
      else if (codeRun === 0) prose += part;
    }
    const withoutComments = prose.replace(/<!--.*?-->/g, '').replace(/<https?:[^>\s]+>/g, '');
    for (const m of withoutComments.matchAll(/<\/?([A-Za-z][\w-]*)/g)) {
      if (!allowedTags.has(m[1]!.toLowerCase())) {
        problems.push({file, line: i + 1, message: `"<${m[1]}>" in prose is read as an HTML element and breaks the site: put it in backticks`});
      }
    }
    if (/\{\{/.test(withoutComments)) problems.push({file, line: i + 1, message: '"{{" in prose is read as a Vue interpolation: put it in backticks'});
  });
  return problems;
}

/** The problems of every page of the site. */
export function checkMarkup(root = repoRoot, pages = docPages(root).filter((p) => p.startsWith('docs/'))): MarkupProblem[] {
  return pages.flatMap((file) => markupProblems(file, readPage(file, root)));
}
