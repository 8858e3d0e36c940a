import {pageBus} from '@switchboard/bus';
import {pageHub} from '@switchboard/signalr';
import {Greeted} from './contract';

/**
 * `<__TAG__>`, a plain custom element (no framework): shows every `greeting.sent` event (from the
 * hub topic `greetings` or from the page) and publishes one with its button. `hub` sets the hub's
 * URL (default `/hubs/events`).
 */
export class __CLASS__ extends HTMLElement {
  #stop?: AbortController;

  connectedCallback(): void {
    const bus = pageBus().register(Greeted);
    this.#stop = new AbortController();
    const button = document.createElement('button');
    button.textContent = 'Say hello';
    button.addEventListener('click', () => bus.publish(Greeted, {text: 'hello from __TAG__'}, {source: 'mfe:__TAG__'}), {signal: this.#stop.signal});
    const list = document.createElement('ul');
    this.replaceChildren(button, list);
    bus.subscribe(
      Greeted,
      (event) => {
        const item = document.createElement('li');
        item.textContent = event.data.text;
        list.append(item);
      },
      {signal: this.#stop.signal, name: 'mfe:__TAG__'},
    );
    // Only events published from now on arrive (earlier ones: GET /api/topics/greetings/events).
    void pageHub(this.getAttribute('hub') ?? '/hubs/events', bus).follow('greetings');
  }

  disconnectedCallback(): void {
    // Ends the subscription and the button's listener: a remount never doubles them.
    this.#stop?.abort();
  }
}

if (!customElements.get('__TAG__')) customElements.define('__TAG__', __CLASS__);

declare global {
  interface HTMLElementTagNameMap {
    '__TAG__': __CLASS__;
  }
}
