import {BusController, SwitchboardElement} from '@switchboard/lit';
import {PlaceOrder, PRODUCTS, shopHub} from '@switchboard/shop-contracts';
import {ConnectionChanged, describeCommandError, pageHub} from '@switchboard/signalr';
import {css, html} from 'lit';

/**
 * Places orders: a submit sends the `order.place` command over the bus (and through the page's hub
 * bridge to the server), then shows whether the shop accepted it, or why not. While the page is
 * offline it says so; an order placed then is "pending": sent once when the connection is back
 * within the bridge's wait (10 s by default), or refused saying it was not sent.
 *
 * @summary The shop's order form.
 * @tagname shop-order-form
 * @attr hub - URL of a Switchboard hub, when no shell connects the page already.
 * @csspart button - the "Place order" button.
 * @csspart result - the outcome of the last order.
 */
export class OrderForm extends SwitchboardElement {
  static override readonly tag = 'shop-order-form';

  static override properties = {hub: {type: String}, outcome: {state: true}, busy: {state: true}, online: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    form { display: grid; gap: 0.75rem; }
    label { display: grid; gap: 0.25rem; font-size: 0.9rem; }
    select, input { font: inherit; padding: 0.4rem; border: 1px solid var(--sb-border, #c8ccd4); border-radius: 6px; }
    button {
      font: inherit; padding: 0.5rem 1rem; border: 0; border-radius: 6px; cursor: pointer;
      background: var(--sb-accent, #3b5bdb); color: var(--sb-on-accent, #fff);
    }
    button[disabled] { opacity: 0.6; cursor: progress; }
    button:focus-visible { outline: 3px solid var(--sb-focus, #91a7ff); outline-offset: 2px; }
    output { font-size: 0.9rem; }
    output[data-outcome='accepted'] { color: var(--sb-ok, #2b7a3b); }
    output[data-outcome='pending'], .offline { color: var(--sb-muted, #5c6370); }
    .offline { font-size: 0.85rem; margin: 0; }
    output[data-outcome='rejected'] { color: var(--sb-bad, #c92a2a); }
  `;

  declare hub: string | undefined;
  declare outcome: {kind: 'accepted'; orderId: string} | {kind: 'rejected'; reason: string} | {kind: 'pending'} | undefined;
  declare busy: boolean;
  declare online: boolean;
  readonly #bus = new BusController(this);

  constructor() {
    super();
    this.busy = false;
    this.online = true;
    this.#bus.subscribe(ConnectionChanged, (e) => void (this.online = e.data.status === 'connected'));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) pageHub(this.hub, this.#bus.bus, shopHub);
  }

  override render() {
    const o = this.outcome;
    return html`
      <form @submit=${this.#place}>
        <label>Tea
          <select name="sku">${PRODUCTS.map((p) => html`<option value=${p.sku}>${p.name} (${(p.priceCents / 100).toFixed(2)} €)</option>`)}</select>
        </label>
        <label>Quantity <input name="quantity" type="number" min="1" max="100" value="1" required /></label>
        <button part="button" type="submit" ?disabled=${this.busy}>${this.online ? 'Place order' : 'Place order (offline)'}</button>
        ${this.online ? '' : html`<p class="offline" data-offline>Offline: an order waits for the connection and is sent once it is back.</p>`}
        <output part="result" aria-live="polite" data-outcome=${o?.kind ?? ''}>
          ${o === undefined
            ? ''
            : o.kind === 'accepted'
              ? `Order ${o.orderId} accepted`
              : o.kind === 'pending'
                ? 'Pending: waiting for the connection to send the order…'
                : `Not placed: ${o.reason}`}
        </output>
      </form>
    `;
  }

  async #place(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.busy = true;
    this.outcome = this.online ? undefined : {kind: 'pending'};
    try {
      const data = {sku: String(form.get('sku')), quantity: Number(form.get('quantity'))};
      // The bridge bounds the wait for a connection; the bus's own timeout must not cut it short.
      const result = (await this.#bus.bus.send(PlaceOrder, data, {source: this.#bus.source, timeoutMs: 60_000})) as {orderId: string};
      this.outcome = {kind: 'accepted', orderId: result.orderId};
    } catch (error) {
      this.outcome = {kind: 'rejected', reason: describeCommandError(error, 'The order')};
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-order-form': OrderForm;
  }
}
