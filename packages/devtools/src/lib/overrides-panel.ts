import {checkOverrideUrl, COMPOSITION_ELEMENT_ID, OVERRIDE_QUERY, OVERRIDES_STORAGE_KEY} from '@switchboard/contracts';
import {html, nothing, type TemplateResult} from 'lit';

/** The developer's local overrides: app or shared package name → module URL (empty when none or unreadable). */
export function readOverrides(): Record<string, string> {
  try {
    const value = JSON.parse(localStorage.getItem(OVERRIDES_STORAGE_KEY) ?? '{}') as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** Saves the overrides (removing the key when none is left); they apply on the next page load. */
export function writeOverrides(overrides: Readonly<Record<string, string>>): void {
  if (Object.keys(overrides).length === 0) localStorage.removeItem(OVERRIDES_STORAGE_KEY);
  else localStorage.setItem(OVERRIDES_STORAGE_KEY, JSON.stringify(overrides));
}

/** What the page's composition says about overrides (the bootstrap adds `overrides` and `refusedOverrides`). */
interface PageComposition {
  readonly environment?: string;
  readonly overridesAllowed?: boolean;
  readonly apps?: ReadonlyArray<{readonly name: string; readonly module: string}>;
  readonly overrides?: readonly string[];
  readonly refusedOverrides?: ReadonlyArray<{readonly name: string; readonly url: string; readonly reason: string}>;
}

function composition(): PageComposition | undefined {
  const text = document.getElementById(COMPOSITION_ELEMENT_ID)?.textContent;
  if (text === undefined || text === null || text === '') return undefined;
  try {
    return JSON.parse(text) as PageComposition;
  } catch {
    return undefined;
  }
}

/** `?sb-override=name=url` pairs of the page's address (empty URLs, which clear one, left out). */
function queryOverrides(): Array<[string, string]> {
  return new URLSearchParams(location.search).getAll(OVERRIDE_QUERY).flatMap((p) => {
    const i = p.indexOf('=');
    return i < 1 || i === p.length - 1 ? [] : [[p.slice(0, i), p.slice(i + 1)] as [string, string]];
  });
}

/** Reloads the page; a `?sb-override=` of the address, already saved, would otherwise undo a change made here. */
function reloadWithoutLinkOverrides(): void {
  const url = new URL(location.href);
  url.searchParams.delete(OVERRIDE_QUERY);
  location.assign(url.href);
}

/** Whether the developer left the section open, per panel host: a re-render must not fold it away under them. */
const opened = new WeakMap<object, boolean>();
const remember = (host: object) => (e: Event) => opened.set(host, (e.target as HTMLDetailsElement).open);

/** Per panel host: a URL typed and refused (app → message), and the apps changed since the page loaded. */
const edits = new WeakMap<object, {readonly refused: Map<string, string>; readonly touched: Set<string>}>();

/**
 * The "Local overrides" section of the event log: each app of the page with the URL it is pointed
 * at (set, clear, clear all; applied by a reload), whether the page runs it (active), and any
 * override refused with the reason. Where the page's environment does not allow overrides, the
 * section says so and lists the overrides this browser holds as refused. Nothing without a
 * composition in the page.
 */
export function overridesPanel(host: {requestUpdate(): void}): TemplateResult | typeof nothing {
  const page = composition();
  if (page === undefined) return nothing;
  const saved = readOverrides();
  if (page.overridesAllowed !== true) {
    const held = [...Object.entries(saved), ...queryOverrides()];
    return html`<details class="overrides" part="overrides" data-allowed="false" ?open=${opened.get(host) ?? held.length > 0} @toggle=${remember(host)}>
      <summary>Local overrides: refused here</summary>
      <p role="status">Refused: the ${page.environment ?? 'current'} environment does not allow local overrides (they load code from elsewhere into this page). Every app runs its deployed version.</p>
      ${held.length === 0
        ? nothing
        : html`<ul>
            ${held.map(([name, url]) => html`<li data-app=${name} data-state="refused">${name} → ${url}: refused</li>`)}
          </ul>
          <button type="button" ?disabled=${Object.keys(saved).length === 0} @click=${() => {
            writeOverrides({});
            host.requestUpdate();
          }}>Clear saved overrides</button>`}
    </details>`;
  }
  const active = new Set(page.overrides ?? []);
  const refused = new Map((page.refusedOverrides ?? []).map((r) => [r.name, r]));
  const edit = edits.get(host) ?? {refused: new Map<string, string>(), touched: new Set<string>()};
  edits.set(host, edit);
  const typed = edit.refused;
  const set = (name: string, url: string) => {
    const next = {...readOverrides()};
    typed.delete(name);
    edit.touched.add(name);
    if (url.trim() === '') delete next[name];
    else {
      const verdict = checkOverrideUrl(url, location.href, 'saved');
      if (!verdict.ok) {
        typed.set(name, `${url.trim()} is refused: ${verdict.reason}`);
        host.requestUpdate();
        return;
      }
      next[name] = url.trim();
    }
    writeOverrides(next);
    host.requestUpdate();
  };
  const names = [...new Set([...(page.apps ?? []).map((a) => a.name), ...Object.keys(saved), ...refused.keys()])];
  const state = (name: string): string => {
    // What the page refused at load stays shown until the developer changes that app here.
    if (typed.has(name) || (refused.has(name) && !edit.touched.has(name))) return 'refused';
    if (active.has(name)) return saved[name] === undefined ? 'cleared' : 'active';
    return saved[name] === undefined ? 'none' : 'saved';
  };
  const words: Record<string, (name: string) => string> = {
    none: () => '',
    active: () => 'active',
    saved: () => 'saved: reload to apply',
    cleared: () => 'cleared: reload to run the deployed version',
    refused: (name) => typed.get(name) ?? `refused: ${refused.get(name)!.reason}`,
  };
  const count = Object.keys(saved).length;
  return html`<details class="overrides" part="overrides" data-allowed="true" ?open=${opened.get(host) ?? (count > 0 || refused.size > 0)} @toggle=${remember(host)}>
    <summary>Local overrides${count === 0 ? '' : ` (${count})`}</summary>
    <p>Point an app (or a shared package) at another URL, e.g. its Vite dev server (<code>npm run dev:app -- &lt;name&gt;</code>). Applied on reload.</p>
    <ul>
      ${names.map((name) => {
        const s = state(name);
        return html`<li data-app=${name} data-state=${s}>
          <label>${name}
            <input type="url" placeholder="http://127.0.0.1:5174/src/index.ts" .value=${saved[name] ?? ''}
              @change=${(e: Event) => set(name, (e.target as HTMLInputElement).value)} /></label>
          ${saved[name] === undefined ? nothing : html`<button type="button" @click=${() => set(name, '')}>Clear</button>`}
          ${s === 'none' ? nothing : html`<span class="override-state" role=${s === 'refused' ? 'alert' : 'status'}>${words[s]!(name)}</span>`}
        </li>`;
      })}
    </ul>
    <button type="button" @click=${reloadWithoutLinkOverrides}>Reload to apply</button>
    <button type="button" ?disabled=${count === 0} @click=${() => {
      writeOverrides({});
      typed.clear();
      for (const name of names) edit.touched.add(name);
      host.requestUpdate();
    }}>Clear all</button>
  </details>`;
}
