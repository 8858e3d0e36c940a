// A user's micro frontend, written against the published packages and bundled by Vite.
import {pageBus} from '@switchboard/bus';
import {defineEvent} from '@switchboard/contracts';
import {BusController} from '@switchboard/lit';
import {pageHub} from '@switchboard/signalr';
import {html, LitElement} from 'lit';
import {z} from 'zod';

export const Greeted = defineEvent({
  type: 'greeting.sent',
  version: 1,
  description: 'Someone said hello.',
  schema: z.object({text: z.string().min(1).max(200)}),
});

export class HelloBoard extends LitElement {
  static override properties = {texts: {state: true}};
  declare texts: readonly string[];
  readonly #bus = new BusController(this, {contracts: [Greeted]});

  constructor() {
    super();
    this.texts = [];
    this.#bus.subscribe(Greeted, (envelope) => {
      this.texts = [...this.texts, envelope.data.text];
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void pageHub('/hubs/events', pageBus()).follow('greetings').then(() => {
      this.dataset['following'] = 'greetings';
    });
  }

  override render() {
    return html`<ul>${this.texts.map((text) => html`<li>${text}</li>`)}</ul>`;
  }
}
customElements.define('hello-board', HelloBoard);

declare global {
  interface HTMLElementTagNameMap {
    'hello-board': HelloBoard;
  }
}
