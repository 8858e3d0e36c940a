import {COMPOSITION_ELEMENT_ID, OVERRIDES_STORAGE_KEY} from '@switchboard/contracts';
import {html, nothing, type TemplateResult} from 'lit';

/** The developer's local overrides: app or shared package name → module URL (empty when none or unreadable). */
export function readOverrides(): Record<string, string> {
  try {
    const value = JSON.parse(localStorage.getItem(OVERRIDES_STORAGE_KEY) ?? '{}') as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Saves the overrides (removing the key when none is left); they apply on the next page load. */
export function writeOverrides(overrides: Readonly<Record<string, string>>): void {
  if (Object.keys(overrides).length === 0) localStorage.removeItem(OVERRIDES_STORAGE_KEY);
  else localStorage.setItem(OVERRIDES_STORAGE_KEY, JSON.stringify(overrides));
}

interface PageComposition {
  readonly overridesAllowed?: boolean;
  readonly apps?: ReadonlyArray<{readonly name: string; readonly module: string}>;
  readonly overrides?: readonly string[];
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

/**
 * The "Local overrides" section of the event log: each app of the page with the URL it is pointed
 * at (set, clear, clear all; applied by a reload). Shown only where the page's composition allows
 * overrides; elsewhere nothing.
 */
export function overridesPanel(host: {requestUpdate(): void}): TemplateResult | typeof nothing {
  const page = composition();
  if (page?.overridesAllowed !== true) return nothing;
  const saved = readOverrides();
  const active = new Set(page.overrides ?? []);
  const set = (name: string, url: string) => {
    const next = {...readOverrides()};
    if (url.trim() === '') delete next[name];
    else next[name] = url.trim();
    writeOverrides(next);
    host.requestUpdate();
  };
  const names = [...new Set([...(page.apps ?? []).map((a) => a.name), ...Object.keys(saved)])];
  return html`<details class="overrides" part="overrides" ?open=${Object.keys(saved).length > 0}>
    <summary>Local overrides${Object.keys(saved).length === 0 ? '' : ` (${Object.keys(saved).length})`}</summary>
    <p>Point an app (or a shared package) at another URL, e.g. its Vite dev server. Applied on reload.</p>
    <ul>
      ${names.map(
        (name) => html`<li data-app=${name}>
          <label>${name}${active.has(name) ? ' (active)' : ''}
            <input type="url" placeholder="http://localhost:5174/src/index.ts" .value=${saved[name] ?? ''}
              @change=${(e: Event) => set(name, (e.target as HTMLInputElement).value)} /></label>
          ${saved[name] === undefined ? nothing : html`<button type="button" @click=${() => set(name, '')}>Clear</button>`}
        </li>`,
      )}
    </ul>
    <button type="button" @click=${() => location.reload()}>Reload to apply</button>
    <button type="button" ?disabled=${Object.keys(saved).length === 0} @click=${() => {
      writeOverrides({});
      host.requestUpdate();
    }}>Clear all</button>
  </details>`;
}
