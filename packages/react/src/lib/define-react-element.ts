import {createElement, type ComponentType} from 'react';
import {createRoot, type Root} from 'react-dom/client';
import {HostContext} from './hooks.js';

/** How an attribute's text becomes a prop: as is, a number, present-or-absent, or JSON. */
export type PropKind = 'string' | 'number' | 'boolean' | 'json';

/** Options of {@link defineReactElement}. */
export interface ReactElementOptions {
  /** Props settable as attributes (`kebab-case` of the prop name) and as element properties. */
  readonly props?: Readonly<Record<string, PropKind>>;
  /**
   * Render into an open shadow root (default `true`), so the component's styles stay inside it and
   * the page's stay out. `false` renders into the element itself: no style isolation, the page's CSS applies.
   */
  readonly shadow?: boolean;
  /** CSS put in the shadow root (or, with `shadow: false`, ignored: style the page instead). */
  readonly styles?: string;
}

/** The `globalThis` key of the components behind tags defined here; a later definition of a tag swaps its component. */
const COMPONENTS = Symbol.for('switchboard.react-elements');
type WithComponents = typeof globalThis & {[COMPONENTS]?: Map<string, {component: ComponentType<never>; options: ReactElementOptions}>};

function components(): Map<string, {component: ComponentType<never>; options: ReactElementOptions}> {
  return ((globalThis as WithComponents)[COMPONENTS] ??= new Map());
}

function attributeOf(prop: string): string {
  return prop.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function parse(kind: PropKind, text: string | null): unknown {
  if (kind === 'boolean') return text !== null;
  if (text === null) return undefined;
  if (kind === 'number') return Number(text);
  if (kind === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return text;
}

/**
 * Ships a React component as a custom element `<tag>`: attributes and properties named in `props`
 * become props, the component renders in the element's shadow root (with `styles`) while the element
 * is connected, and is unmounted when it is removed, so its hooks' subscriptions and requests end.
 * Inside, the bus hooks ask the shell for the bus from this element and publish as `mfe:<tag>`.
 *
 * Defining a tag again (a newer version of the app loaded in place by the shell) swaps the component
 * behind it: elements created from then on render the new one.
 *
 * ```ts
 * defineReactElement('shop-order-lookup', OrderLookup, {props: {limit: 'number'}, styles: ':host{display:block}'});
 * ```
 */
export function defineReactElement<P extends object>(tag: string, component: ComponentType<P>, options: ReactElementOptions = {}): CustomElementConstructor {
  const registry = components();
  const known = registry.has(tag);
  registry.set(tag, {component: component as ComponentType<never>, options});
  const existing = customElements.get(tag);
  if (existing !== undefined) {
    if (!known) throw new Error(`<${tag}> is already defined by something other than defineReactElement`);
    return existing;
  }
  const kinds = options.props ?? {};
  const byAttribute = new Map(Object.entries(kinds).map(([prop, kind]) => [attributeOf(prop), {prop, kind}]));

  class ReactElement extends HTMLElement {
    static readonly observedAttributes = [...byAttribute.keys()];
    #root: Root | undefined;
    readonly #props: Record<string, unknown> = {};

    connectedCallback(): void {
      const current = registry.get(tag)!;
      let container: Element | ShadowRoot = this;
      if (current.options.shadow !== false) {
        const shadow = this.shadowRoot ?? this.attachShadow({mode: 'open'});
        if (current.options.styles !== undefined && shadow.querySelector('style[data-switchboard]') === null) {
          const style = document.createElement('style');
          style.dataset['switchboard'] = '';
          style.textContent = current.options.styles;
          shadow.append(style);
        }
        let mount = shadow.querySelector<HTMLElement>('[data-switchboard-root]');
        if (mount === null) {
          mount = document.createElement('div');
          mount.dataset['switchboardRoot'] = '';
          shadow.append(mount);
        }
        container = mount;
      }
      this.#root = createRoot(container);
      this.#render();
    }

    disconnectedCallback(): void {
      // Unmounting now, not later: the shell counts subscriptions right after removing an app.
      this.#root?.unmount();
      this.#root = undefined;
    }

    attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
      const known = byAttribute.get(name);
      if (known === undefined) return;
      this.#props[known.prop] = parse(known.kind, value);
      this.#render();
    }

    #render(): void {
      const current = registry.get(tag)!;
      this.#root?.render(createElement(HostContext.Provider, {value: this}, createElement(current.component as ComponentType<Record<string, unknown>>, {...this.#props})));
    }

    /** Sets a prop from a property assignment (`element.limit = 5`). */
    setProp(prop: string, value: unknown): void {
      this.#props[prop] = value;
      this.#render();
    }

    getProp(prop: string): unknown {
      return this.#props[prop];
    }
  }
  for (const prop of Object.keys(kinds)) {
    Object.defineProperty(ReactElement.prototype, prop, {
      configurable: true,
      get(this: ReactElement) {
        return this.getProp(prop);
      },
      set(this: ReactElement, value: unknown) {
        this.setProp(prop, value);
      },
    });
  }
  customElements.define(tag, ReactElement);
  return ReactElement;
}
