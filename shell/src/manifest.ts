import {COMPOSITION_ELEMENT_ID} from '@switchboard/contracts';

/** One micro frontend as the shell's manifest describes it. */
export interface AppEntry {
  readonly name: string;
  readonly title: string;
  /** The custom element the module defines. */
  readonly tag: string;
  /** Where the app's standalone ES module is deployed; loaded when the shell mounts it. */
  readonly module: string;
  /** Type patterns the app may publish; anything else is rejected by the bus. */
  readonly publishes: readonly string[];
}

/**
 * Reads and checks the manifest: the composition the server put in the page (with any local
 * overrides applied), else the one at `url`; a bad entry is an error naming it, not a blank page.
 */
export async function loadManifest(url: string): Promise<AppEntry[]> {
  const inline = document.getElementById(COMPOSITION_ELEMENT_ID)?.textContent;
  let body: {apps?: unknown};
  if (inline !== undefined && inline !== null && inline !== '') body = JSON.parse(inline) as {apps?: unknown};
  else {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`manifest ${url}: HTTP ${response.status}`);
    body = (await response.json()) as {apps?: unknown};
  }
  if (!Array.isArray(body.apps)) throw new Error(`manifest ${url}: "apps" must be an array`);
  return body.apps.map((app: unknown, i: number) => {
    const a = app as Partial<AppEntry>;
    if (typeof a.name !== 'string' || typeof a.tag !== 'string' || !a.tag.includes('-') || typeof a.module !== 'string') {
      throw new Error(`manifest ${url}: app ${i} needs a name, a custom element tag and a module URL`);
    }
    return {name: a.name, title: a.title ?? a.name, tag: a.tag, module: a.module, publishes: Array.isArray(a.publishes) ? a.publishes : []};
  });
}
