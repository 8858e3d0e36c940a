import {BusController} from '@switchboard/lit';
import {ORDERS_TOPIC, PRODUCTS, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {pageHub, TopicTruncated} from '@switchboard/signalr';
import {css, html, LitElement} from 'lit';
import {project, STEPS, type TrackedOrder} from './projection';

const NAMES = new Map<string, string>(PRODUCTS.map((p) => [p.sku, p.name]));

/**
 * Tracks orders live: a read model built only from events, each order's status moving through
 * placed → reserved → paid → confirmed → shipped, or ending cancelled with what was compensated.
 *
 * @summary The shop's order tracker.
 * @tagname shop-order-tracker
 * @attr hub - URL of a Switchboard hub, when no shell connects the page already.
 * @csspart order - one order.
 */
export class OrderTracker extends LitElement {
  static readonly tag = 'shop-order-tracker';

  /** Registers the element under {@link OrderTracker.tag}, once, however many bundles call it. */
  static define(): void {
    if (!customElements.get(OrderTracker.tag)) customElements.define(OrderTracker.tag, OrderTracker);
  }

  static override properties = {hub: {type: String}, orders: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.5rem; }
    li { border: 1px solid var(--sb-border, #c8ccd4); border-radius: 6px; padding: 0.5rem 0.75rem; }
    .head { display: flex; justify-content: space-between; gap: 0.5rem; flex-wrap: wrap; }
    .id { font-family: ui-monospace, monospace; font-size: 0.85rem; }
    .steps { display: flex; gap: 0.25rem; margin: 0.4rem 0 0; padding: 0; list-style: none; flex-wrap: wrap; }
    .steps li { border: 0; padding: 0.1rem 0.4rem; border-radius: 999px; font-size: 0.75rem; background: var(--sb-bg, #eef0f3); color: var(--sb-muted, #5c6370); }
    .steps li[data-done] { background: var(--sb-ok, #2b8a3e); color: #fff; }
    .cancelled { color: var(--sb-bad, #c92a2a); font-size: 0.85rem; margin: 0.3rem 0 0; }
    .empty { color: var(--sb-muted, #5c6370); }
  `;

  declare hub: string | undefined;
  declare orders: ReadonlyMap<string, TrackedOrder>;
  readonly #bus = new BusController(this, {contracts: shopContracts});

  constructor() {
    super();
    this.orders = new Map();
    for (const pattern of ['order.*', 'payment.*', 'inventory.*']) {
      this.#bus.subscribe(pattern, (e) => {
        this.orders = project(this.orders, e);
      });
    }
    // Events were lost to retention: rebuild from the server's read model.
    this.#bus.subscribe(TopicTruncated, (e) => void (e.data.topic === ORDERS_TOPIC && this.#resync()));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) pageHub(this.hub, this.#bus.bus, shopHub);
  }

  override render() {
    const orders = [...this.orders.values()].reverse();
    if (orders.length === 0) return html`<p class="empty">No orders yet.</p>`;
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

  async #resync(): Promise<void> {
    const base = this.hub ? new URL(this.hub, location.href).origin : location.origin;
    const response = await fetch(`${base}/api/orders`);
    if (!response.ok) return;
    const {orders} = (await response.json()) as {orders: TrackedOrder[]};
    this.orders = new Map(orders.reverse().map((o) => [o.orderId, o]));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-order-tracker': OrderTracker;
  }
}
