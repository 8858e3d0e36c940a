/**
 * The inline script a page gets where overrides are allowed, in the manner of import-map-overrides:
 * it reads `localStorage['switchboard-overrides']` (a JSON object: app name or shared package → URL)
 * and `?sb-override=name=url` (saved; `?sb-override=name=` clears one), points those apps or shared
 * modules at their URLs in the composition and the import map, then writes the one native import
 * map, before any module loads. A badge says overrides are active, or refused and why. Plain ES2017,
 * no imports.
 */
import {MAX_OVERRIDE_URL_LENGTH, OVERRIDE_QUERY, OVERRIDES_STORAGE_KEY} from '@switchboard/contracts';

/**
 * `checkOverrideUrl` of `@switchboard/contracts` as an ES2017 function expression, for the inline
 * script (which imports nothing). The registry's tests hold both to the same table of URLs.
 */
export const OVERRIDE_URL_RULE = `function (url, pageUrl, source) {
  if (typeof url !== 'string' || url.trim() === '') return {ok: false, reason: 'no URL'};
  if (url.length > ${MAX_OVERRIDE_URL_LENGTH}) return {ok: false, reason: 'longer than ${MAX_OVERRIDE_URL_LENGTH} characters'};
  var parsed, page;
  try { page = new URL(pageUrl); parsed = new URL(url.trim(), page); } catch (e) { return {ok: false, reason: 'not a URL'}; }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return {ok: false, reason: 'only http(s) URLs may be loaded, not ' + parsed.protocol};
  if (parsed.username !== '' || parsed.password !== '') return {ok: false, reason: 'a URL with credentials is refused'};
  var h = parsed.hostname;
  var loopback = h === 'localhost' || h.slice(-10) === '.localhost' || h === '[::1]' || /^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$/.test(h);
  if (parsed.origin === page.origin || loopback) return {ok: true, url: parsed.href};
  if (source === 'query') return {ok: false, reason: 'a link may only point at this machine (localhost) or ' + page.origin + '; save an https URL elsewhere from the devtools panel'};
  if (parsed.protocol !== 'https:') return {ok: false, reason: 'plain http is refused except on this machine (localhost): use https'};
  return {ok: true, url: parsed.href};
}`;

/** The bootstrap's source, inlined into the page by {@link renderPage}. */
export const OVERRIDES_BOOTSTRAP = `(function () {
  var KEY = '${OVERRIDES_STORAGE_KEY}';
  var check = ${OVERRIDE_URL_RULE};
  var compEl = document.getElementById('switchboard-composition');
  var mapEl = document.getElementById('switchboard-importmap');
  var map = JSON.parse(mapEl.textContent);
  // Without a readable composition (a proxy stripped it, a cached page) the import map is still
  // written: the shell then fetches its composition, or shows why it cannot.
  var composition = {apps: []};
  try { if (compEl) composition = JSON.parse(compEl.textContent); } catch (e) { compEl = null; }
  if (!composition || !Array.isArray(composition.apps)) { composition = {apps: []}; compEl = null; }
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { saved = {}; }
  if (typeof saved !== 'object' || Array.isArray(saved)) saved = {};
  var overrides = {}, sources = {};
  Object.keys(saved).forEach(function (name) { overrides[name] = String(saved[name]); sources[name] = 'saved'; });
  var params = new URLSearchParams(location.search).getAll('${OVERRIDE_QUERY}');
  params.forEach(function (p) {
    var i = p.indexOf('=');
    if (i < 1) return;
    var name = p.slice(0, i), url = p.slice(i + 1);
    if (url) { overrides[name] = url; sources[name] = 'query'; } else { delete overrides[name]; delete saved[name]; }
  });
  var active = [], refused = [];
  Object.keys(overrides).forEach(function (name) {
    var url = overrides[name];
    var verdict = check(url, location.href, sources[name]);
    var app = composition.apps.filter(function (a) { return a.name === name; })[0];
    if (!verdict.ok) { refused.push({name: name, url: url, reason: verdict.reason}); return; }
    // Only an accepted link is kept for the next loads.
    if (sources[name] === 'query') saved[name] = url;
    if (app) {
      delete map.integrity[app.module];
      app.module = verdict.url; delete app.integrity; app.override = true;
      // No fallback to the deployed module: a dev server that is down shows as the app's error.
      delete app.standalone; delete app.standaloneIntegrity;
      active.push(name);
    } else if (map.imports[name] !== undefined) {
      delete map.integrity[map.imports[name]];
      map.imports[name] = verdict.url;
      active.push(name);
    } else {
      refused.push({name: name, url: url, reason: 'this page has no app or shared package named ' + name});
    }
  });
  try { if (params.length) { if (Object.keys(saved).length) localStorage.setItem(KEY, JSON.stringify(saved)); else localStorage.removeItem(KEY); } } catch (e) {}
  composition.overrides = active;
  composition.refusedOverrides = refused;
  if (compEl) compEl.textContent = JSON.stringify(composition);
  var s = document.createElement('script');
  s.type = 'importmap';
  s.textContent = JSON.stringify(map);
  mapEl.replaceWith(s);
  if (!active.length && !refused.length) return;
  refused.forEach(function (r) { console.warn('switchboard: the override of ' + r.name + ' (' + r.url + ') is refused: ' + r.reason); });
  window.addEventListener('DOMContentLoaded', function () {
    var b = document.createElement('button');
    b.id = 'switchboard-overrides-badge';
    b.type = 'button';
    var parts = [];
    if (active.length) parts.push('overrides active: ' + active.join(', '));
    if (refused.length) parts.push('refused: ' + refused.map(function (r) { return r.name; }).join(', '));
    b.textContent = parts.join(' · ');
    b.title = active.map(function (n) { return n + ' → ' + overrides[n]; }).concat(refused.map(function (r) { return r.name + ' refused: ' + r.reason; })).join('\\n') + '\\nClick to clear every override and reload.';
    b.style.cssText = 'position:fixed;right:8px;bottom:8px;z-index:2147483647;padding:4px 8px;border:0;border-radius:4px;background:#b45309;color:#fff;font:12px/1.4 system-ui,sans-serif;cursor:pointer';
    b.addEventListener('click', function () { try { localStorage.removeItem(KEY); } catch (e) {} var u = new URL(location.href); u.searchParams.delete('${OVERRIDE_QUERY}'); location.href = u.href; });
    document.body.appendChild(b);
  });
})();`;
