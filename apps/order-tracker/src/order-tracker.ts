import {BusController, SwitchboardElement} from '@switchboard/lit';
import {INVENTORY_TOPIC, ORDERS_TOPIC, PRODUCTS, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {pageHub, projection, type Projection} from '@switchboard/signalr';
import {css, html} from 'lit';
import {MAX_TRACKED, project, STEPS, type TrackedOrder} from './projection';

const NAMES = new Map<string, string>(PRODUCTS.map((p) => [p.sku, p.name]));

/**
 * Tracks the most recent orders live: a projection that starts from the server's read model
 * (`GET /api/orders`, its newest page, with the offsets it reflects) and continues from exactly those offsets with the events, each
 * order's status moving through placed → reserved → paid → confirmed → shipped, or ending
 * cancelled with what was compensated. Right after a reload, in a new tab, and after a reconnect.
 *
 * @summary The shop's order tracker.
 * @tagname shop-order-tracker
 * @attr hub - URL of the Switchboard hub; default `/hubs/events` on the page's origin (the shell's).
 * @csspart order - one order.
 */
export class OrderTracker extends SwitchboardElement {
  static override readonly tag = 'shop-order-tracker';

  static override properties = {hub: {type: String}, orders: {state: true}, loaded: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.5rem; }
    li { border: 1px solid var(--sb-border, #c8ccd4); border-radius: 6px; padding: 0.5rem 0.75rem; }
    .head { display: flex; justify-content: space-between; gap: 0.5rem; flex-wrap: wrap; }
    .id { font-family: ui-monospace, monospace; font-size: 0.85rem; }
    .steps { display: flex; gap: 0.25rem; margin: 0.4rem 0 0; padding: 0; list-style: none; flex-wrap: wrap; }
    .steps li { border: 0; padding: 0.1rem 0.4rem; border-radius: 999px; font-size: 0.75rem; background: var(--sb-bg, #eef0f3); color: var(--sb-muted, #5c6370); }
    .steps li[data-done] { background: var(--sb-ok, #2b7a3b); color: #fff; }
    .cancelled { color: var(--sb-bad, #c92a2a); font-size: 0.85rem; margin: 0.3rem 0 0; }
    .empty { color: var(--sb-muted, #5c6370); }
  `;

  declare hub: string | undefined;
  declare orders: ReadonlyMap<string, TrackedOrder>;
  declare loaded: boolean;
  readonly #bus = new BusController(this, {contracts: shopContracts});
  #projection: Projection<ReadonlyMap<string, TrackedOrder>> | undefined;

  constructor() {
    super();
    this.orders = new Map();
    this.loaded = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const url = this.hub ?? '/hubs/events';
    const origin = new URL(url, location.href).origin;
    const hub = pageHub(url, this.#bus.bus, shopHub);
    this.#projection = projection<ReadonlyMap<string, TrackedOrder>>({
      hub,
      // An order's state folds events of both topics: a reservation is an inventory event.
      topics: [ORDERS_TOPIC, INVENTORY_TOPIC],
      snapshot: async (signal) => {
        // The most recent page only: the read model is paged, and the view keeps that many.
        const response = await hub.fetch(`${origin}/api/orders?limit=${MAX_TRACKED}`, {signal});
        if (!response.ok) throw new Error(`GET /api/orders: ${response.status}`);
        const {orders, offsets} = (await response.json()) as {orders: TrackedOrder[]; offsets: Record<string, string | null>};
        // The read model lists newest first; the view keeps arrival order and shows it reversed.
        return {state: new Map(orders.reverse().map((o) => [o.orderId, o])), offsets};
      },
      apply: project,
      onState: (orders) => {
        this.orders = orders;
        this.loaded = true;
      },
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#projection?.stop();
    this.#projection = undefined;
  }

  override render() {
    const orders = [...this.orders.values()].reverse();
    if (orders.length === 0) return html`<p class="empty">${this.loaded ? 'No orders yet.' : 'Loading orders…'}</p>`;
    return html`<ol aria-live="polite">
      ${orders.map(
        (o) => html`<li part="order" data-order=${o.orderId} data-status=${o.status}>
          <div class="head"><span class="id">${o.orderId}</span><span>${o.quantity} × ${NAMES.get(o.sku) ?? o.sku}</span></div>
          ${o.status === 'cancelled'
            ? html`<p class="cancelled">Cancelled: ${o.reason}${o.compensated?.length ? html` (compensated: ${o.compensated.join(', ')})` : ''}</p>`
            : html`<ul class="steps">${STEPS.map((s) => html`<li ?data-done=${STEPS.indexOf(s) <= STEPS.indexOf(o.status as (typeof STEPS)[number])}>${s}</li>`)}</ul>`}
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-order-tracker': OrderTracker;
  }
}
