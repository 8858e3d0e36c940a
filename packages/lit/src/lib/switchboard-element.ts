import {LitElement} from 'lit';

/**
 * A `LitElement` that knows its tag and registers itself once: what every element embedded by
 * script tag needs, since two bundles on one page may both carry it and `customElements.define`
 * throws on the second call.
 *
 * ```ts
 * export class OrderForm extends SwitchboardElement {
 *   static override readonly tag = 'shop-order-form';
 * }
 * OrderForm.define(); // registers <shop-order-form>, or leaves the one already registered
 * ```
 */
export class SwitchboardElement extends LitElement {
  /** The element's tag name; every subclass that is defined sets its own. */
  static readonly tag: string = '';

  /**
   * Registers the class under its {@link SwitchboardElement.tag} unless something is registered
   * there already (another bundle's copy of the same element), and returns what the tag now
   * stands for. Throws when the class has no tag of its own.
   */
  static define(this: typeof SwitchboardElement): CustomElementConstructor {
    const {tag} = this;
    if (tag === '' || !Object.hasOwn(this, 'tag')) throw new TypeError(`${this.name} needs a static tag of its own to be defined`);
    const existing = customElements.get(tag);
    if (existing !== undefined) return existing;
    customElements.define(tag, this);
    return this;
  }
}
