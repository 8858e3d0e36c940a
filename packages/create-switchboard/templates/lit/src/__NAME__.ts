import {pageBus} from '@switchboard/bus';
import {BusController} from '@switchboard/lit';
import {pageHub} from '@switchboard/signalr';
import {css, html, LitElement} from 'lit';
import {Greeted} from './contract';

/**
 * `<__TAG__>`: shows every `greeting.sent` event (from the hub topic `greetings` or from the page)
 * and publishes one with its button. `hub` sets the hub's URL (default `/hubs/events`).
 */
export class __CLASS__ extends LitElement {
  static override properties = {texts: {state: true}, hub: {type: String}};
  static override styles = css`
    :host { display: block; font: 14px system-ui, sans-serif; }
  `;
  declare texts: readonly string[];
  declare hub: string;
  // Subscriptions made through the controller end when the element is removed.
  readonly #bus = new BusController(this, {contracts: [Greeted]});

  constructor() {
    super();
    this.texts = [];
    this.hub = '/hubs/events';
    this.#bus.subscribe(Greeted, (event) => {
      this.texts = [...this.texts, event.data.text];
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Only events published from now on arrive (earlier ones: GET /api/topics/greetings/events).
    void pageHub(this.hub, pageBus()).follow('greetings');
  }

  override render() {
    return html`
      <button @click=${() => pageBus().publish(Greeted, {text: 'hello from __TAG__'}, {source: 'mfe:__TAG__'})}>Say hello</button>
      <ul>${this.texts.map((text) => html`<li>${text}</li>`)}</ul>
    `;
  }
}

if (!customElements.get('__TAG__')) customElements.define('__TAG__', __CLASS__);

declare global {
  interface HTMLElementTagNameMap {
    '__TAG__': __CLASS__;
  }
}
