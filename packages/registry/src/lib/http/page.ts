/**
 * The shell page as served: the built `index.html` with the visitor's composition and one native
 * import map put at the top of `<head>`, before any module can load. Pure string work.
 */
import {COMPOSITION_ELEMENT_ID} from '@switchboard/contracts';
import type {PageComposition} from '../compose.js';
import {OVERRIDES_BOOTSTRAP} from './overrides-bootstrap.js';

/** `<`, `>` and `&` escaped, so JSON inside a `<script>` element cannot end it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * `html` with the composition (`<script type="application/json" id="switchboard-composition">`),
 * the import map and `modulepreload` links inserted right after `<head>`. Where overrides are
 * allowed, the import map is written by a small inline script instead, after it applied the
 * developer's overrides (localStorage or `?sb-override=name=url`), still before any module loads.
 */
export function renderPage(html: string, page: PageComposition): string {
  const composition = `<script type="application/json" id="${COMPOSITION_ELEMENT_ID}">${scriptJson(page.composition)}</script>`;
  const map = page.composition.overridesAllowed
    ? `<script type="application/json" id="switchboard-importmap">${scriptJson(page.importMap)}</script><script>${OVERRIDES_BOOTSTRAP}</script>`
    : `<script type="importmap">${scriptJson(page.importMap)}</script>`;
  const preload = page.preload.map((href) => `<link rel="modulepreload" href="${href.replace(/"/g, '&quot;')}"${page.importMap.integrity[href] === undefined ? '' : ` integrity="${page.importMap.integrity[href]}"`}>`).join('');
  const head = /<head[^>]*>/i.exec(html);
  const inject = `\n${composition}\n${map}\n${preload}`;
  if (head === null) return `${inject}\n${html}`;
  const at = head.index + head[0].length;
  return html.slice(0, at) + inject + html.slice(at);
}
