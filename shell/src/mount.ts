import type {AppEntry} from './manifest';

/**
 * Loads one app's module and puts its element into `tile`. Whatever goes wrong (the module fails to
 * load, defines no element, or the element throws while it is created or connected) stays in this
 * tile: it shows an error in place of the app, and the other apps keep working.
 */
export async function mount(app: AppEntry, tile: HTMLElement): Promise<void> {
  const slot = tile.querySelector<HTMLElement>('.slot')!;
  try {
    await import(/* @vite-ignore */ app.module);
    const definition = customElements.get(app.tag);
    if (definition === undefined) throw new Error(`the module defines no <${app.tag}>`);
    // A custom element's constructor and connectedCallback report their errors instead of throwing
    // them to the caller: catch what is reported while this element is created and attached.
    let reported: unknown;
    const onError = (event: ErrorEvent): void => {
      reported ??= event.error ?? new Error(event.message);
      event.preventDefault();
    };
    window.addEventListener('error', onError);
    try {
      const element = document.createElement(app.tag);
      if (!(element instanceof definition)) throw reported ?? new Error(`<${app.tag}> failed to construct`);
      slot.replaceChildren(element);
    } finally {
      window.removeEventListener('error', onError);
    }
    if (reported !== undefined) throw reported;
    tile.dataset['state'] = 'ready';
  } catch (error) {
    tile.dataset['state'] = 'failed';
    const message = document.createElement('p');
    message.className = 'app-error';
    message.setAttribute('role', 'alert');
    message.textContent = `${app.title} is unavailable: ${(error as Error).message ?? String(error)}`;
    slot.replaceChildren(message);
    console.warn(`switchboard shell: ${app.name} failed`, error);
  }
}
