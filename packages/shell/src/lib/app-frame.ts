import {markAppHost} from '@switchboard/bus';
import type {CompositionApp} from '@switchboard/contracts';
import {loadApp, type LoadStep, type ModuleImporter, type RetryPolicy} from './loader.js';
import type {SlotLayout} from './routes.js';

/** A frame's state, also its `data-state` attribute. */
export type FrameState = 'loading' | 'ready' | 'failed' | 'unmounted';

/** Options of an {@link AppFrame}. */
export interface AppFrameOptions {
  readonly retry?: RetryPolicy;
  readonly importer?: ModuleImporter;
  /** Called with every load step (tries, failures, fallbacks). */
  readonly onStep?: (app: CompositionApp, step: LoadStep) => void;
  /** Called when the frame's state changes. */
  readonly onState?: (frame: AppFrame, state: FrameState) => void;
}

let frames = 0;

/**
 * One app in one slot: a `<section>` frame (`data-app`, `data-state`, a heading with the app's
 * title) holding the app's element once its module is loaded. Whatever goes wrong (the module fails
 * to load, defines no element, or the element throws while it is created or connected) stays in
 * this frame as an error message; the other apps keep working. {@link AppFrame.unmount} removes the
 * element, so its `disconnectedCallback` ends its subscriptions, and abandons a load still running.
 */
export class AppFrame {
  /** The frame element the shell puts in the slot. */
  readonly element: HTMLElement;
  readonly #body: HTMLElement;
  readonly #slot: SlotLayout;
  readonly #options: AppFrameOptions;
  #app: CompositionApp;
  #abort = new AbortController();
  #host: HTMLElement | undefined;
  #unmark: (() => void) | undefined;
  #state: FrameState = 'loading';

  constructor(app: CompositionApp, slot: SlotLayout, options: AppFrameOptions = {}, doc: Document = document) {
    this.#app = app;
    this.#slot = slot;
    this.#options = options;
    const id = `sb-app-${app.name}-${++frames}`;
    const frame = (this.element = doc.createElement('section'));
    frame.className = slot.frameClass ?? 'sb-app';
    frame.dataset['app'] = app.name;
    frame.setAttribute('aria-labelledby', id);
    const title = doc.createElement('h2');
    title.id = id;
    title.textContent = app.title;
    this.#body = doc.createElement('div');
    this.#body.className = 'sb-app-body';
    frame.append(title, this.#body);
    this.#setState('loading');
  }

  /** The app this frame shows (the newer entry after a swap). */
  get app(): CompositionApp {
    return this.#app;
  }

  /** The frame's state now. */
  get state(): FrameState {
    return this.#state;
  }

  /** The app's element while mounted. */
  get host(): HTMLElement | undefined {
    return this.#host;
  }

  /** Loads the module and mounts the element; never rejects (a failure shows in the frame). */
  async mount(): Promise<void> {
    const signal = this.#abort.signal;
    this.#showLoading();
    try {
      const variant = await loadApp(this.#app, {
        ...(this.#options.retry === undefined ? {} : {retry: this.#options.retry}),
        ...(this.#options.importer === undefined ? {} : {importer: this.#options.importer}),
        onStep: (step) => this.#options.onStep?.(this.#app, step),
        signal,
      });
      if (signal.aborted) return;
      // Which variant runs: `module` (shared through the import map) or the `standalone` fallback.
      this.element.dataset['variant'] = variant;
      this.#attach();
      this.#setState('ready');
    } catch (error) {
      if (signal.aborted) return;
      this.#fail(error);
    }
  }

  /**
   * Mounts `next` (a newer version of the same app) in place: loads its module, then unmounts the
   * element and mounts a new one. Only for apps whose module can be loaded again over the old one
   * (`remountable`, e.g. an app made with `defineReactElement`): a custom element tag cannot be
   * defined twice.
   */
  async swap(next: CompositionApp): Promise<void> {
    this.#app = next;
    this.#abort.abort(new DOMException('swapped', 'AbortError'));
    this.#abort = new AbortController();
    this.#detach();
    await this.mount();
  }

  /** Removes the element (ending its subscriptions through its own lifecycle) and abandons a running load. */
  unmount(): void {
    this.#abort.abort(new DOMException(`${this.#app.name} unmounted`, 'AbortError'));
    this.#detach();
    this.element.remove();
    this.#setState('unmounted');
  }

  #showLoading(): void {
    const text = this.element.ownerDocument.createElement('p');
    text.className = 'sb-app-loading';
    text.textContent = this.#slot.loading ?? `Loading ${this.#app.title}…`;
    this.#body.replaceChildren(text);
    this.element.setAttribute('aria-busy', 'true');
  }

  #attach(): void {
    const doc = this.element.ownerDocument;
    const view = doc.defaultView ?? window;
    const definition = view.customElements.get(this.#app.tag)!;
    // A custom element's constructor and connectedCallback report their errors instead of throwing
    // them to the caller: catch what is reported while this element is created and attached.
    let reported: unknown;
    const onError = (event: ErrorEvent): void => {
      reported ??= event.error ?? new Error(event.message);
      event.preventDefault();
    };
    view.addEventListener('error', onError);
    try {
      const element = doc.createElement(this.#app.tag);
      if (!(element instanceof definition)) throw reported ?? new Error(`<${this.#app.tag}> failed to construct`);
      // Marked before it connects, so events it dispatches while connecting already speak for it.
      this.#unmark = markAppHost(element);
      this.#host = element;
      this.#body.replaceChildren(element);
    } finally {
      view.removeEventListener('error', onError);
    }
    if (reported !== undefined) {
      this.#detach();
      throw reported;
    }
  }

  #detach(): void {
    this.#host?.remove();
    this.#host = undefined;
    this.#unmark?.();
    this.#unmark = undefined;
  }

  #fail(error: unknown): void {
    const message = this.element.ownerDocument.createElement('p');
    message.className = 'app-error';
    message.setAttribute('role', 'alert');
    const reason = (error as Error)?.message ?? String(error);
    const template = this.#slot.error ?? '{title} is unavailable: {error}';
    message.textContent = template.replaceAll('{title}', this.#app.title).replaceAll('{error}', reason);
    this.#body.replaceChildren(message);
    this.#setState('failed');
    console.warn(`switchboard shell: ${this.#app.name} failed`, error);
  }

  #setState(state: FrameState): void {
    this.#state = state;
    this.element.dataset['state'] = state;
    if (state !== 'loading') this.element.removeAttribute('aria-busy');
    this.#options.onState?.(this, state);
  }
}
