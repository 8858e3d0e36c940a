import {BusController, SwitchboardElement} from '@switchboard/lit';
import {MetricsAlert, PaymentFailed, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {pageHub} from '@switchboard/signalr';
import {css, html} from 'lit';
import {SlidingWindow} from './sliding-window';

/** The window of the counts and the alert. */
const WINDOW_MS = 60_000;
/** More payment failures than this within the window raise an alert. */
const PAYMENT_FAILURE_LIMIT = 5;

/**
 * A stateful consumer: counts every event type over the last minute, and when more than five
 * payments fail within it publishes a derived `metrics.alert` event back on the bus (once per
 * crossing), for any other app to act on.
 *
 * @summary The shop's live metrics.
 * @tagname shop-live-metrics
 * @attr hub - URL of a Switchboard hub, when no shell connects the page already.
 * @csspart alert - the alert banner.
 */
export class LiveMetrics extends SwitchboardElement {
  static override readonly tag = 'shop-live-metrics';

  static override properties = {hub: {type: String}, counts: {state: true}, alert: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    table { width: 100%; border-collapse: collapse; font-size: 0.85rem; }
    td { padding: 0.2rem 0.25rem; border-bottom: 1px solid var(--sb-border, #c8ccd4); }
    td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
    .alert { margin: 0 0 0.5rem; padding: 0.4rem 0.6rem; border-radius: 6px; background: var(--sb-bad, #c92a2a); color: #fff; font-size: 0.85rem; }
    .empty { color: var(--sb-muted, #5c6370); }
  `;

  declare hub: string | undefined;
  declare counts: ReadonlyArray<[string, number]>;
  declare alert: string | undefined;
  readonly #bus = new BusController(this, {contracts: shopContracts});
  readonly #window = new SlidingWindow(WINDOW_MS);
  #alerting = false;

  constructor() {
    super();
    this.counts = [];
    this.#bus.subscribe('*', (e) => {
      if (e.type.startsWith('switchboard.')) return;
      const n = this.#window.add(e.type, Date.now());
      this.counts = this.#window.counts(Date.now());
      if (e.type === PaymentFailed.type) this.#checkPayments(n);
    });
    this.#bus.subscribe(MetricsAlert, (e) => {
      this.alert = `${e.data.count} × ${e.data.kind} in the last ${e.data.windowMs / 1000} s`;
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) pageHub(this.hub, this.#bus.bus, shopHub);
  }

  override render() {
    return html`${this.alert === undefined ? '' : html`<p class="alert" part="alert" role="alert">${this.alert}</p>`}
      ${this.counts.length === 0
        ? html`<p class="empty">No events in the last minute.</p>`
        : html`<table>
            <tbody>${this.counts.map(([type, n]) => html`<tr data-type=${type}><td>${type}</td><td>${n}</td></tr>`)}</tbody>
          </table>`}`;
  }

  #checkPayments(inWindow: number): void {
    const over = inWindow > PAYMENT_FAILURE_LIMIT;
    // Published on the way up only: one alert per crossing, not one per failure.
    if (over && !this.#alerting) this.#bus.emit(MetricsAlert, {kind: PaymentFailed.type, count: inWindow, windowMs: WINDOW_MS});
    this.#alerting = over;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-live-metrics': LiveMetrics;
  }
}
