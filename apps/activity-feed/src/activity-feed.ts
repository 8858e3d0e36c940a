import type {Envelope} from '@switchboard/contracts';
import {BusController, SwitchboardElement} from '@switchboard/lit';
import {OrderPlaced, ORDERS_TOPIC, shopHub} from '@switchboard/shop-contracts';
import {pageHub} from '@switchboard/signalr';
import {css, html} from 'lit';

/** How many events the feed keeps on screen. */
const MAX_ROWS = 50;

/**
 * Shows the order events the page receives, newest first, with their envelope fields.
 *
 * Inside the shell it gets the bus (and, through it, the server's events) from the shell. Embedded
 * alone, give it a `hub` and it connects the page to that hub itself, once per page.
 *
 * @summary The shop's live activity feed.
 * @tagname shop-activity-feed
 * @attr hub - URL of a Switchboard hub to follow `topic` on, when no shell does it already.
 * @attr topic - the server topic to follow; default `orders`.
 * @csspart row - one event.
 */
export class ActivityFeed extends SwitchboardElement {
  static override readonly tag = 'shop-activity-feed';

  static override properties = {
    hub: {type: String},
    topic: {type: String},
    events: {state: true},
  };

  static override styles = css`
    :host { display: block; font: inherit; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.5rem; }
    li { border: 1px solid var(--sb-border, #c8ccd4); border-radius: 6px; padding: 0.5rem 0.75rem; }
    .type { font-weight: 600; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.75rem; margin: 0.35rem 0 0; font-size: 0.8rem; }
    dt { color: var(--sb-muted, #5c6370); }
    dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
    .empty { color: var(--sb-muted, #5c6370); }
  `;

  declare hub: string | undefined;
  declare topic: string;
  declare events: readonly Envelope[];
  readonly #bus = new BusController(this);

  constructor() {
    super();
    this.topic = ORDERS_TOPIC;
    this.events = [];
    this.#bus.subscribe(OrderPlaced, (envelope) => {
      this.events = [envelope, ...this.events].slice(0, MAX_ROWS);
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) void pageHub(this.hub, this.#bus.bus, shopHub).follow(this.topic);
  }

  override render() {
    if (this.events.length === 0) return html`<p class="empty">No events yet.</p>`;
    return html`<ol aria-live="polite">
      ${this.events.map(
        (e) => html`<li part="row" data-type=${e.type} data-id=${e.id}>
          <span class="type">${e.type}</span> v${e.version}
          <dl>
            <dt>id</dt><dd data-field="id">${e.id}</dd>
            <dt>source</dt><dd data-field="source">${e.source}</dd>
            <dt>time</dt><dd data-field="time">${e.time}</dd>
            <dt>correlation</dt><dd data-field="correlationId">${e.correlationId}</dd>
            <dt>data</dt><dd data-field="data">${JSON.stringify(e.data)}</dd>
          </dl>
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-activity-feed': ActivityFeed;
  }
}
