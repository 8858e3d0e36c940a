import {BusController} from '@switchboard/lit';
import {OrderPlaced} from '@switchboard/shop-contracts';
import {css, html, LitElement} from 'lit';

const SKUS = [
  {sku: 'tea-sencha', label: 'Sencha'},
  {sku: 'tea-assam', label: 'Assam'},
  {sku: 'tea-oolong', label: 'Oolong'},
];

/**
 * Places orders: a click publishes `order.placed` on the page bus.
 *
 * @summary The shop's order form.
 * @event order.placed - published on the bus, with this element as its source.
 * @csspart button - the "Place order" button.
 */
export class OrderForm extends LitElement {
  static readonly tag = 'shop-order-form';

  /** Registers the element under {@link OrderForm.tag}, once, however many bundles call it. */
  static define(): void {
    if (!customElements.get(OrderForm.tag)) customElements.define(OrderForm.tag, OrderForm);
  }

  static override properties = {lastOrderId: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    form { display: grid; gap: 0.75rem; }
    label { display: grid; gap: 0.25rem; font-size: 0.9rem; }
    select, input { font: inherit; padding: 0.4rem; border: 1px solid var(--sb-border, #c8ccd4); border-radius: 6px; }
    button {
      font: inherit; padding: 0.5rem 1rem; border: 0; border-radius: 6px; cursor: pointer;
      background: var(--sb-accent, #3b5bdb); color: var(--sb-on-accent, #fff);
    }
    button:focus-visible { outline: 3px solid var(--sb-focus, #91a7ff); outline-offset: 2px; }
    output { color: var(--sb-muted, #5c6370); font-size: 0.9rem; }
  `;

  declare lastOrderId: string | undefined;
  readonly #bus = new BusController(this);

  override render() {
    return html`
      <form @submit=${this.#place}>
        <label>Tea
          <select name="sku">${SKUS.map((s) => html`<option value=${s.sku}>${s.label}</option>`)}</select>
        </label>
        <label>Quantity <input name="quantity" type="number" min="1" max="1000" value="1" required /></label>
        <button part="button" type="submit">Place order</button>
        <output aria-live="polite">${this.lastOrderId === undefined ? '' : `Placed ${this.lastOrderId}`}</output>
      </form>
    `;
  }

  #place(event: SubmitEvent): void {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const orderId = `o-${Math.random().toString(36).slice(2, 10)}`;
    this.#bus.emit(OrderPlaced, {orderId, sku: String(form.get('sku')), quantity: Number(form.get('quantity'))});
    this.lastOrderId = orderId;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-order-form': OrderForm;
  }
}
