import {Bus, installPageBus, provideBus, type BusOptions, type BusStats, type PublishPermissions} from '@switchboard/bus';
import {AppDeployed, AppRolledBack, DEPLOYS_TOPIC, type Composition, type CompositionApp} from '@switchboard/contracts';
import {AppFrame, type FrameState} from './app-frame.js';
import {loadComposition, type CompositionOrigin, type CompositionSourceOptions} from './composition-source.js';
import {decideDeploy, onDeploys, showUpdateNotice, type DeployNotice} from './deploys.js';
import {retryUntilLoaded, type ErrorPageOptions} from './error-page.js';
import {preloadModule, type LoadStep, type ModuleImporter, type RetryPolicy} from './loader.js';
import {anchorOf, interceptNavigation, isShellLink} from './navigation.js';
import {activeSlots, checkLayout, matchRoute, type Layout, type RouteMatch, type SlotLayout} from './routes.js';

/** What the shell needs of a hub bridge (`@switchboard/signalr`'s `HubBridge` fits): following the deploys topic, and its counts. */
export interface ShellHub {
  follow(topic: string): Promise<unknown>;
  stats?(): Readonly<Record<string, number>>;
}

/** Options of {@link createShell}. */
export interface ShellOptions {
  /** Where slots are rendered; a `[data-slot="<name>"]` inside it is used as that slot's place, else one is appended. */
  readonly root: HTMLElement;
  readonly layout: Layout;
  /** A composition at hand (tests, a static page); otherwise it is loaded by {@link loadComposition}. */
  readonly composition?: Composition;
  readonly source?: CompositionSourceOptions;
  /** Options of the page bus the shell creates; `permissions.rules` are merged over the composition's (`mfe:<tag>` → `publishes`). */
  readonly bus?: BusOptions;
  /** Connects the hub once the bus exists (e.g. `(bus) => pageHub('/hubs/events', bus, options)`); the shell follows the deploys topic on it. */
  readonly hub?: (bus: Bus) => ShellHub;
  readonly retry?: RetryPolicy;
  readonly errorPage?: Omit<ErrorPageOptions, 'root'>;
  /**
   * `modulepreload` hints for the next route's modules: `hover` (default) when a link to it is
   * hovered or focused; `idle` also for every route linked from the page once the browser is idle
   * (a first visit then fetches more than its own route needs); `false` for none.
   */
  readonly preload?: 'hover' | 'idle' | false;
  /** Called with every module load step. */
  readonly onLoadStep?: (app: CompositionApp, step: LoadStep) => void;
  readonly importer?: ModuleImporter;
  /** What the Reload button of a "new version" notice does; default `location.reload()`. */
  readonly reload?: () => void;
}

/** The `globalThis` key under which the running shell is kept, for tests and devtools. */
export const SHELL_KEY = Symbol.for('switchboard.shell');

/** What {@link Shell.stats} reports. */
export interface ShellStats {
  /** Mounted (or loading) app frames. */
  readonly frames: number;
  readonly bus: BusStats;
  readonly hub: Readonly<Record<string, number>> | undefined;
}

/** Detail of the `switchboard-route` event the shell's root dispatches after each render. */
export interface RouteDetail {
  readonly pathname: string;
  readonly params: Readonly<Record<string, string>>;
  readonly notFound: boolean;
}

/**
 * The shell runtime: reads the composition (showing an error page and retrying with backoff while
 * it cannot), creates the page bus with each app's publish permissions from its `publishes`, and
 * renders the layout for the current path: each active slot gets a frame per app, mounted when its
 * route becomes active and unmounted when it stops. Links and back/forward navigate through the
 * History API. Deploys heard on the bus show a "new version" notice, or swap a remountable app in place.
 *
 * ```ts
 * const shell = await createShell({root: document.querySelector('main')!, layout});
 * shell.navigate('/ops');
 * ```
 */
export async function createShell(options: ShellOptions): Promise<Shell> {
  const loaded = options.composition
    ? {composition: options.composition, origin: 'given' as const}
    : await retryUntilLoaded(() => loadComposition(options.source), {root: options.root, ...options.errorPage});
  const shell = new Shell(options, loaded.composition, loaded.origin);
  shell.start();
  return shell;
}

/** A running shell; see {@link createShell}. */
export class Shell {
  readonly bus: Bus;
  readonly hub: ShellHub | undefined;
  readonly origin: CompositionOrigin;
  readonly #options: ShellOptions;
  readonly #root: HTMLElement;
  readonly #view: Window;
  readonly #frames = new Map<string, AppFrame>();
  readonly #slots = new Map<string, HTMLElement>();
  readonly #stops: Array<() => void> = [];
  readonly #baseTitle: string;
  #composition: Composition;
  #apps = new Map<string, CompositionApp>();
  #match: RouteMatch | undefined;
  #notFound: HTMLElement | undefined;

  constructor(options: ShellOptions, composition: Composition, origin: CompositionOrigin) {
    this.#options = options;
    this.#root = options.root;
    this.#view = this.#root.ownerDocument.defaultView ?? window;
    this.origin = origin;
    this.#composition = composition;
    this.#apps = new Map(composition.apps.map((a) => [a.name, a]));
    this.#baseTitle = this.#root.ownerDocument.title;
    const rules = Object.fromEntries(composition.apps.map((a) => [`mfe:${a.tag}`, a.publishes]));
    const permissions: PublishPermissions = {...options.bus?.permissions, rules: {...rules, ...options.bus?.permissions?.rules}};
    this.bus = installPageBus(new Bus({source: 'shell', ...options.bus, permissions}));
    this.bus.register(AppDeployed, AppRolledBack);
    this.hub = options.hub?.(this.bus);
    for (const problem of checkLayout(options.layout, new Set(this.#apps.keys()))) console.warn(`switchboard shell: layout: ${problem}`);
  }

  /** The composition the page runs (updated when a remountable app is swapped). */
  get composition(): Composition {
    return this.#composition;
  }

  /** The route shown now. */
  get match(): RouteMatch | undefined {
    return this.#match;
  }

  /** Attaches the bus to the document, answers bus requests, starts navigation and renders the current path. */
  start(): void {
    const doc = this.#root.ownerDocument;
    this.#stops.push(this.bus.attach(doc), provideBus(this.#root, this.bus));
    this.#stops.push(interceptNavigation(this.#view, (url, how) => this.#go(url, how)));
    this.#stops.push(onDeploys(this.bus, (notice) => void this.#onDeploy(notice)));
    if (this.hub !== undefined) this.hub.follow(DEPLOYS_TOPIC).catch(() => {});
    if (this.#options.preload !== false) this.#watchHover();
    (globalThis as Record<symbol, unknown>)[SHELL_KEY] = this;
    this.render();
  }

  /** Goes to `path` (pushing a history entry, or replacing the current one) and renders it. */
  navigate(path: string, options: {replace?: boolean} = {}): void {
    const url = new URL(path, this.#view.location.href);
    if (options.replace) this.#view.history.replaceState(null, '', url);
    else this.#view.history.pushState(null, '', url);
    this.render();
  }

  /**
   * Renders the current location: frames of apps no longer active are unmounted, new ones mounted
   * (each on its own: a slow app shows its loading content and holds up no other), kept ones stay.
   */
  render(): void {
    const pathname = this.#view.location.pathname;
    const match = (this.#match = matchRoute(this.#options.layout, pathname));
    const slots = activeSlots(this.#options.layout, match);
    const wanted = new Map<string, {slot: SlotLayout; app: CompositionApp}>();
    for (const slot of slots) {
      for (const name of slot.apps) {
        const app = this.#apps.get(name);
        if (app !== undefined) wanted.set(key(slot.name, name), {slot, app});
      }
    }
    for (const [k, frame] of this.#frames) {
      if (wanted.has(k)) continue;
      frame.unmount();
      this.#frames.delete(k);
    }
    const shownSlots = new Set(slots.map((s) => s.name));
    for (const [name, place] of this.#slots) {
      if (shownSlots.has(name)) continue;
      if (place.dataset['sbCreated'] === 'true') place.remove();
      else place.hidden = true;
      this.#slots.delete(name);
    }
    for (const slot of slots) {
      const place = this.#slotPlace(slot.name);
      let previous: Element | null = null;
      for (const name of slot.apps) {
        const entry = wanted.get(key(slot.name, name));
        if (entry === undefined) continue;
        let frame = this.#frames.get(key(slot.name, name));
        if (frame === undefined) {
          frame = this.#frame(entry.app, slot);
          this.#frames.set(key(slot.name, name), frame);
          void frame.mount();
        }
        // Moving a connected element disconnects it: only move a frame that is out of place.
        const expected: Element | null = previous === null ? place.firstElementChild : previous.nextElementSibling;
        if (expected !== frame.element) {
          if (previous === null) place.prepend(frame.element);
          else previous.after(frame.element);
        }
        previous = frame.element;
      }
    }
    this.#showNotFound(match, pathname);
    const title = match.notFound ? this.#options.layout.notFound?.title : [...match.chain].reverse().find((r) => r.title !== undefined)?.title;
    this.#root.ownerDocument.title = title === undefined ? this.#baseTitle : `${title} · ${this.#baseTitle}`;
    this.#root.dataset['route'] = match.notFound ? '*' : match.chain.map((r) => r.path).join('');
    this.#root.dataset['shell'] = 'ready';
    this.#root.dispatchEvent(new CustomEvent<RouteDetail>('switchboard-route', {detail: {pathname, params: match.params, notFound: match.notFound}}));
    if (this.#options.preload === 'idle') this.#preloadWhenIdle();
  }

  /** Counts for leak checks: frames, the bus's subscriptions, DOM listeners and pending requests, the hub's followed topics. */
  stats(): ShellStats {
    return {frames: this.#frames.size, bus: this.bus.stats(), hub: this.hub?.stats?.()};
  }

  /** Unmounts every app and stops listening; the bus stays installed. */
  stop(): void {
    for (const frame of this.#frames.values()) frame.unmount();
    this.#frames.clear();
    for (const stop of this.#stops.splice(0)) stop();
  }

  #frame(app: CompositionApp, slot: SlotLayout): AppFrame {
    const {retry, importer, onLoadStep} = this.#options;
    return new AppFrame(
      app,
      slot,
      {
        ...(retry === undefined ? {} : {retry}),
        ...(importer === undefined ? {} : {importer}),
        onStep: (a, step) => onLoadStep?.(a, step),
        onState: (frame: AppFrame, state: FrameState) => {
          if (state === 'failed' || state === 'ready') this.#root.dispatchEvent(new CustomEvent('switchboard-app', {detail: {name: frame.app.name, state}}));
        },
      },
      this.#root.ownerDocument,
    );
  }

  #slotPlace(name: string): HTMLElement {
    let place = this.#slots.get(name);
    if (place !== undefined) return place;
    place = [...this.#root.querySelectorAll<HTMLElement>('[data-slot]')].find((e) => e.dataset['slot'] === name);
    if (place === undefined) {
      place = this.#root.ownerDocument.createElement('div');
      place.className = 'sb-slot';
      place.dataset['slot'] = name;
      place.dataset['sbCreated'] = 'true';
      this.#root.append(place);
    }
    place.hidden = false;
    this.#slots.set(name, place);
    return place;
  }

  #showNotFound(match: RouteMatch, pathname: string): void {
    if (!match.notFound) {
      this.#notFound?.remove();
      this.#notFound = undefined;
      return;
    }
    const doc = this.#root.ownerDocument;
    const box = (this.#notFound ??= doc.createElement('div'));
    box.className = 'sb-not-found';
    box.setAttribute('role', 'status');
    const heading = doc.createElement('h2');
    heading.textContent = this.#options.layout.notFound?.title ?? 'Not found';
    const text = doc.createElement('p');
    text.textContent = this.#options.layout.notFound?.message ?? `There is no page at ${pathname}.`;
    box.replaceChildren(heading, text);
    if (!box.isConnected) this.#root.prepend(box);
  }

  #go(url: URL, how: 'push' | 'pop'): void {
    if (how === 'push') {
      if (url.href === this.#view.location.href) return;
      this.#view.history.pushState(null, '', url);
    }
    this.render();
  }

  /** Module URLs of the apps `pathname` would mount that are not mounted now. */
  #modulesFor(pathname: string): string[] {
    const slots = activeSlots(this.#options.layout, matchRoute(this.#options.layout, pathname));
    const urls: string[] = [];
    for (const slot of slots) {
      for (const name of slot.apps) {
        const app = this.#apps.get(name);
        if (app !== undefined && !this.#frames.has(key(slot.name, name))) urls.push(app.module);
      }
    }
    return urls;
  }

  #watchHover(): void {
    const doc = this.#root.ownerDocument;
    const onHover = (event: Event): void => {
      const anchor = anchorOf(event);
      if (anchor === undefined) return;
      const url = new URL(anchor.href, this.#view.location.href);
      if (url.origin !== this.#view.location.origin || /\.[a-z0-9]+$/i.test(url.pathname)) return;
      for (const module of this.#modulesFor(url.pathname)) preloadModule(module, doc);
    };
    doc.addEventListener('pointerover', onHover);
    doc.addEventListener('focusin', onHover);
    this.#stops.push(() => {
      doc.removeEventListener('pointerover', onHover);
      doc.removeEventListener('focusin', onHover);
    });
  }

  #preloadWhenIdle(): void {
    const view = this.#view as Window & {requestIdleCallback?: (cb: () => void, opts?: {timeout: number}) => number};
    const run = (): void => {
      const base = new URL(this.#view.location.href);
      for (const anchor of this.#root.ownerDocument.querySelectorAll<HTMLAnchorElement>('a[href]')) {
        if (!isShellLink(new MouseEvent('click'), anchor, base)) continue;
        for (const module of this.#modulesFor(new URL(anchor.href, base).pathname)) preloadModule(module, this.#root.ownerDocument);
      }
    };
    if (view.requestIdleCallback !== undefined) view.requestIdleCallback(run, {timeout: 2000});
    else setTimeout(run, 200);
  }

  async #onDeploy(notice: DeployNotice): Promise<void> {
    const mounted = new Set([...this.#frames.values()].map((f) => f.app.name));
    const action = decideDeploy(notice, this.#composition.apps, mounted);
    if (action.kind === 'ignore') return;
    const reload = this.#options.reload ?? (() => this.#view.location.reload());
    if (action.kind === 'swap') {
      try {
        const {composition} = await loadComposition({...this.#options.source, skipInline: true});
        const next = composition.apps.find((a) => a.name === notice.name);
        if (next === undefined || next.tag !== action.app.tag) throw new Error(`${notice.name} is no longer in the composition under <${action.app.tag}>`);
        this.#composition = {...this.#composition, revision: composition.revision, apps: this.#composition.apps.map((a) => (a.name === next.name ? next : a))};
        this.#apps.set(next.name, next);
        await Promise.all([...this.#frames.values()].filter((f) => f.app.name === next.name).map((f) => f.swap(next)));
        return;
      } catch (error) {
        console.warn(`switchboard shell: swapping ${notice.name} in place failed; asking for a reload`, error);
      }
    }
    showUpdateNotice(this.#root, action.app, notice.version, reload);
  }
}

function key(slot: string, app: string): string {
  return `${slot}\u0000${app}`;
}
