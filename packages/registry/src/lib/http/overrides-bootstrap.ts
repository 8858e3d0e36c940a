/**
 * The inline script a page gets where overrides are allowed, in the manner of import-map-overrides:
 * it reads `localStorage['switchboard-overrides']` (a JSON object: app name or shared package → URL)
 * and `?sb-override=name=url` (saved; `?sb-override=name=` clears one), points those apps or shared
 * modules at their URLs in the composition and the import map, then writes the one native import
 * map, before any module loads. A badge says overrides are active. Plain ES2017, no imports.
 */
import {OVERRIDE_QUERY, OVERRIDES_STORAGE_KEY} from '@switchboard/contracts';

/** The bootstrap's source, inlined into the page by {@link renderPage}. */
export const OVERRIDES_BOOTSTRAP = `(function () {
  var KEY = '${OVERRIDES_STORAGE_KEY}';
  var compEl = document.getElementById('switchboard-composition');
  var mapEl = document.getElementById('switchboard-importmap');
  var map = JSON.parse(mapEl.textContent);
  // Without a readable composition (a proxy stripped it, a cached page) the import map is still
  // written: the shell then fetches its composition, or shows why it cannot.
  var composition = {apps: []};
  try { if (compEl) composition = JSON.parse(compEl.textContent); } catch (e) { compEl = null; }
  if (!composition || !Array.isArray(composition.apps)) { composition = {apps: []}; compEl = null; }
  var overrides = {};
  try { overrides = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { overrides = {}; }
  var params = new URLSearchParams(location.search).getAll('${OVERRIDE_QUERY}');
  params.forEach(function (p) {
    var i = p.indexOf('=');
    if (i < 1) return;
    var name = p.slice(0, i), url = p.slice(i + 1);
    if (url) overrides[name] = url; else delete overrides[name];
  });
  try { if (params.length) localStorage.setItem(KEY, JSON.stringify(overrides)); } catch (e) {}
  var active = [];
  Object.keys(overrides).forEach(function (name) {
    var url = String(overrides[name]);
    if (!/^(https?:\\/\\/|\\/)/.test(url)) return;
    var app = composition.apps.filter(function (a) { return a.name === name; })[0];
    if (app) {
      delete map.integrity[app.module];
      app.module = url; delete app.integrity; app.override = true;
      active.push(name);
    } else if (map.imports[name] !== undefined) {
      delete map.integrity[map.imports[name]];
      map.imports[name] = url;
      active.push(name);
    }
  });
  composition.overrides = active;
  if (compEl) compEl.textContent = JSON.stringify(composition);
  var s = document.createElement('script');
  s.type = 'importmap';
  s.textContent = JSON.stringify(map);
  mapEl.replaceWith(s);
  if (!active.length) return;
  window.addEventListener('DOMContentLoaded', function () {
    var b = document.createElement('button');
    b.id = 'switchboard-overrides-badge';
    b.type = 'button';
    b.title = 'Local overrides: ' + active.join(', ') + '. Click to clear them and reload.';
    b.textContent = 'overrides active: ' + active.join(', ');
    b.style.cssText = 'position:fixed;right:8px;bottom:8px;z-index:2147483647;padding:4px 8px;border:0;border-radius:4px;background:#b45309;color:#fff;font:12px/1.4 system-ui,sans-serif;cursor:pointer';
    b.addEventListener('click', function () { try { localStorage.removeItem(KEY); } catch (e) {} var u = new URL(location.href); u.searchParams.delete('${OVERRIDE_QUERY}'); location.href = u.href; });
    document.body.appendChild(b);
  });
})();`;
