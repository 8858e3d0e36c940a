/** One micro frontend the shell mounts: its element's tag and the URL of the module that defines it. */
export interface AppEntry {
  readonly name: string;
  readonly tag: string;
  readonly module: string;
}

/**
 * Mounts every app of the manifest at `manifestUrl` into its own slot of `host`. An app whose module
 * fails to load (404, a syntax error, a throw at definition) shows why in its slot; the others and
 * the shell keep running.
 */
export async function mountApps(host: HTMLElement, manifestUrl: string): Promise<void> {
  const response = await fetch(manifestUrl, {cache: 'no-cache'});
  const apps = response.ok ? ((await response.json()) as AppEntry[]) : [];
  await Promise.all(
    apps.map(async (app) => {
      const slot = document.createElement('section');
      slot.dataset['app'] = app.name;
      host.append(slot);
      try {
        await import(/* @vite-ignore */ app.module);
        if (customElements.get(app.tag) === undefined) throw new Error(`${app.module} did not define <${app.tag}>`);
        slot.append(document.createElement(app.tag));
      } catch (error) {
        slot.dataset['failed'] = '';
        slot.textContent = `${app.name} could not be loaded: ${(error as Error).message}`;
      }
    }),
  );
}
