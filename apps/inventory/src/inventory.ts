import {BusController} from '@switchboard/lit';
import {PRODUCTS, Restock, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {pageHub} from '@switchboard/signalr';
import {css, html, LitElement} from 'lit';

/** How many units one click on "Restock" adds. */
const RESTOCK_UNITS = 10;

/**
 * Stock levels as a projection: loaded once by query, then kept current by `inventory.*` events.
 * "Restock" sends the `inventory.restock` command.
 *
 * @summary The shop's inventory.
 * @tagname shop-inventory
 * @attr hub - URL of a Switchboard hub, when no shell connects the page already.
 * @csspart product - one product's row.
 */
export class InventoryPanel extends LitElement {
  static readonly tag = 'shop-inventory';

  /** Registers the element under {@link InventoryPanel.tag}, once, however many bundles call it. */
  static define(): void {
    if (!customElements.get(InventoryPanel.tag)) customElements.define(InventoryPanel.tag, InventoryPanel);
  }

  static override properties = {hub: {type: String}, levels: {state: true}, error: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    table { width: 100%; border-collapse: collapse; }
    th, td { text-align: left; padding: 0.35rem 0.25rem; border-bottom: 1px solid var(--sb-border, #c8ccd4); }
    td.level { font-variant-numeric: tabular-nums; }
    td.level[data-low] { color: var(--sb-warn, #e67700); font-weight: 600; }
    button { font: inherit; padding: 0.25rem 0.6rem; border: 1px solid var(--sb-accent, #3b5bdb); border-radius: 6px; background: none; color: var(--sb-accent, #3b5bdb); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--sb-focus, #91a7ff); outline-offset: 2px; }
    .error { color: var(--sb-bad, #c92a2a); font-size: 0.85rem; }
  `;

  declare hub: string | undefined;
  declare levels: ReadonlyMap<string, number>;
  declare error: string | undefined;
  readonly #bus = new BusController(this, {contracts: shopContracts});

  constructor() {
    super();
    this.levels = new Map();
    this.#bus.subscribe('inventory.*', (e) => {
      const {sku, level} = e.data as {sku?: unknown; level?: unknown};
      if (typeof sku === 'string' && typeof level === 'number') this.levels = new Map(this.levels).set(sku, level);
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) pageHub(this.hub, this.#bus.bus, shopHub);
    void this.#load();
  }

  override render() {
    return html`<table>
        <thead><tr><th>Tea</th><th>In stock</th><th></th></tr></thead>
        <tbody>
          ${PRODUCTS.map((p) => {
            const level = this.levels.get(p.sku);
            return html`<tr part="product" data-sku=${p.sku}>
              <td>${p.name}</td>
              <td class="level" ?data-low=${level !== undefined && level <= 5}>${level ?? '…'}</td>
              <td><button @click=${() => this.#restock(p.sku)} aria-label=${`Restock ${p.name}`}>Restock +${RESTOCK_UNITS}</button></td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${this.error === undefined ? '' : html`<p class="error" role="alert">${this.error}</p>`}`;
  }

  async #load(): Promise<void> {
    const base = this.hub ? new URL(this.hub, location.href).origin : location.origin;
    try {
      const {products} = (await (await fetch(`${base}/api/inventory`)).json()) as {products: {sku: string; level: number}[]};
      // Events that arrived while loading are newer than the query's answer: keep them.
      const next = new Map(products.map((p) => [p.sku, p.level]));
      for (const [sku, level] of this.levels) next.set(sku, level);
      this.levels = next;
    } catch {
      this.error = 'Stock levels are unavailable.';
    }
  }

  async #restock(sku: string): Promise<void> {
    try {
      this.error = undefined;
      await this.#bus.bus.send(Restock, {sku, quantity: RESTOCK_UNITS}, {source: this.#bus.source});
    } catch (error) {
      this.error = (error as Error).message;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-inventory': InventoryPanel;
  }
}
