import {BusController, SwitchboardElement} from '@switchboard/lit';
import {INVENTORY_TOPIC, PRODUCTS, Restock, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {ConnectionChanged, describeCommandError, pageHub, projection, type Projection} from '@switchboard/signalr';
import {css, html} from 'lit';

/** How many units one click on "Restock" adds. */
const RESTOCK_UNITS = 10;

/**
 * Stock levels as a projection: the server's read model (`GET /api/inventory`, with the offset it
 * reflects), continued from exactly that offset by `inventory.*` events, and loaded again after a
 * reconnect. "Restock" sends the `inventory.restock` command; while the page is offline the button
 * says so and a click waits for the connection (then is sent once) or is refused clearly.
 *
 * @summary The shop's inventory.
 * @tagname shop-inventory
 * @attr hub - URL of the Switchboard hub; default `/hubs/events` on the page's origin (the shell's).
 * @csspart product - one product's row.
 */
export class InventoryPanel extends SwitchboardElement {
  static override readonly tag = 'shop-inventory';

  static override properties = {hub: {type: String}, levels: {state: true}, error: {state: true}, online: {state: true}, pending: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    table { width: 100%; border-collapse: collapse; }
    th, td { text-align: left; padding: 0.35rem 0.25rem; border-bottom: 1px solid var(--sb-border, #c8ccd4); }
    td.level { font-variant-numeric: tabular-nums; }
    td.level[data-low] { color: var(--sb-warn, #a85400); font-weight: 600; }
    button { font: inherit; padding: 0.25rem 0.6rem; border: 1px solid var(--sb-accent, #3b5bdb); border-radius: 6px; background: none; color: var(--sb-accent, #3b5bdb); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--sb-focus, #91a7ff); outline-offset: 2px; }
    button[aria-disabled='true'] { opacity: 0.7; cursor: progress; }
    .error { color: var(--sb-bad, #c92a2a); font-size: 0.85rem; }
    .vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    .note { color: var(--sb-muted, #5c6370); font-size: 0.85rem; margin: 0.4rem 0 0; }
  `;

  declare hub: string | undefined;
  declare levels: ReadonlyMap<string, number>;
  declare error: string | undefined;
  declare online: boolean;
  /** Skus whose restock waits for an answer (or for the connection). */
  declare pending: ReadonlySet<string>;
  readonly #bus = new BusController(this, {contracts: shopContracts});
  #projection: Projection<ReadonlyMap<string, number>> | undefined;

  constructor() {
    super();
    this.levels = new Map();
    this.online = true;
    this.pending = new Set();
    this.#bus.subscribe(ConnectionChanged, (e) => void (this.online = e.data.status === 'connected'));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const url = this.hub ?? '/hubs/events';
    const origin = new URL(url, location.href).origin;
    const hub = pageHub(url, this.#bus.bus, shopHub);
    this.#projection = projection({
      hub,
      topics: [INVENTORY_TOPIC],
      snapshot: async (signal) => {
        const response = await hub.fetch(`${origin}/api/inventory`, {signal});
        if (!response.ok) throw new Error(`GET /api/inventory: ${response.status}`);
        const {products, offsets} = (await response.json()) as {products: {sku: string; level: number}[]; offsets: Record<string, string | null>};
        return {state: new Map(products.map((p) => [p.sku, p.level])), offsets};
      },
      apply: (levels, e) => {
        const {sku, level} = e.data as {sku?: unknown; level?: unknown};
        return typeof sku === 'string' && typeof level === 'number' ? new Map(levels).set(sku, level) : levels;
      },
      onState: (levels) => {
        this.levels = levels;
        this.error = undefined;
      },
      onError: () => void (this.error = 'Stock levels are unavailable; trying again.'),
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#projection?.stop();
    this.#projection = undefined;
  }

  override render() {
    return html`<table>
        <thead><tr><th scope="col">Tea</th><th scope="col">In stock</th><th scope="col">Restock</th></tr></thead>
        <tbody>
          ${PRODUCTS.map((p) => {
            const level = this.levels.get(p.sku);
            const waiting = this.pending.has(p.sku);
            return html`<tr part="product" data-sku=${p.sku}>
              <td>${p.name}</td>
              <td class="level" ?data-low=${level !== undefined && level <= 5}>${level ?? '…'}</td>
              <td><button @click=${() => this.#restock(p.sku)} aria-disabled=${waiting ? 'true' : 'false'}>Restock +${RESTOCK_UNITS}<span class="vh"> ${p.name}</span>${waiting ? ' (pending)' : ''}</button></td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${this.online ? '' : html`<p class="note" data-offline>Offline: a restock waits for the connection.</p>`}
      ${this.error === undefined ? '' : html`<p class="error" role="alert">${this.error}</p>`}`;
  }

  async #restock(sku: string): Promise<void> {
    if (this.pending.has(sku)) return;
    this.pending = new Set(this.pending).add(sku);
    try {
      this.error = undefined;
      await this.#bus.bus.send(Restock, {sku, quantity: RESTOCK_UNITS}, {source: this.#bus.source, timeoutMs: 60_000});
    } catch (error) {
      this.error = describeCommandError(error, 'Restock');
    } finally {
      const next = new Set(this.pending);
      next.delete(sku);
      this.pending = next;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-inventory': InventoryPanel;
  }
}
