import {BusController, SwitchboardElement} from '@switchboard/lit';
import {DeadLetterRecorded, NotificationRaised, shopContracts, shopHub} from '@switchboard/shop-contracts';
import {pageHub} from '@switchboard/signalr';
import {css, html} from 'lit';

interface Toast {
  readonly id: string;
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

/** Toasts shown at once; older ones go. */
const MAX_TOASTS = 5;

/**
 * Toasts pushed from the server: orders shipped, payments failed, low stock, and events a service
 * gave up on (dead letters).
 *
 * @summary The shop's notifications.
 * @tagname shop-notifications
 * @attr hub - URL of a Switchboard hub, when no shell connects the page already.
 * @attr timeout - milliseconds a toast stays; default 8000, 0 keeps them.
 * @csspart toast - one notification.
 */
export class NotificationCenter extends SwitchboardElement {
  static override readonly tag = 'shop-notifications';

  static override properties = {hub: {type: String}, timeout: {type: Number}, toasts: {state: true}};

  static override styles = css`
    :host { display: block; font: inherit; }
    ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.4rem; }
    li { padding: 0.5rem 0.75rem; border-radius: 6px; border-left: 4px solid var(--sb-accent, #3b5bdb); background: var(--sb-bg, #eef0f3); font-size: 0.9rem; }
    li[data-level='warning'] { border-color: var(--sb-warn, #a85400); }
    li[data-level='error'] { border-color: var(--sb-bad, #c92a2a); }
    .empty { color: var(--sb-muted, #5c6370); }
  `;

  declare hub: string | undefined;
  declare timeout: number;
  declare toasts: readonly Toast[];
  readonly #bus = new BusController(this, {contracts: shopContracts});

  constructor() {
    super();
    this.timeout = 8000;
    this.toasts = [];
    this.#bus.subscribe(NotificationRaised, (e) => this.#show({id: e.id, level: e.data.level, message: e.data.message}));
    this.#bus.subscribe(DeadLetterRecorded, (e) =>
      this.#show({id: e.id, level: 'error', message: `${e.data.subscriber} gave up on ${e.data.eventType} after ${e.data.attempt} attempts: ${e.data.error}`}),
    );
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) pageHub(this.hub, this.#bus.bus, shopHub);
  }

  override render() {
    // The live region exists from the start, so screen readers announce the first toast too.
    return html`<div role="log" aria-live="polite" aria-label="Notifications">
      ${this.toasts.length === 0
        ? html`<p class="empty">Nothing new.</p>`
        : html`<ul>${this.toasts.map((t) => html`<li part="toast" data-level=${t.level}>${t.message}</li>`)}</ul>`}
    </div>`;
  }

  #show(toast: Toast): void {
    this.toasts = [toast, ...this.toasts].slice(0, MAX_TOASTS);
    if (this.timeout > 0) setTimeout(() => (this.toasts = this.toasts.filter((t) => t !== toast)), this.timeout);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shop-notifications': NotificationCenter;
  }
}
