import type {Bus} from './bus.js';
import {pageBus} from './page-bus.js';

/**
 * The context key of the bus in the Context Community Protocol (the protocol `@lit/context` speaks).
 * A `Symbol.for` key, so a provider and a consumer from separately built bundles still match.
 */
export const busContext: unique symbol = Symbol.for('switchboard.bus-context') as never;

/** The callback of a context request. */
export type ContextCallback<T> = (value: T, unsubscribe?: () => void) => void;

/**
 * The Context Community Protocol's request event: an element asks its ancestors for a value.
 * Bubbles and is composed, so it crosses shadow roots up to whoever provides the context.
 */
export class ContextRequestEvent<T> extends Event {
  constructor(
    readonly context: unknown,
    readonly callback: ContextCallback<T>,
    readonly subscribe = false,
    readonly contextTarget: Element | undefined = undefined,
  ) {
    super('context-request', {bubbles: true, composed: true});
  }
}

/**
 * Answers bus requests that reach `host` with `bus`. Returns a function that stops answering.
 *
 * ```ts
 * provideBus(document.querySelector('sb-shell')!, bus);
 * ```
 */
export function provideBus(host: EventTarget, bus: Bus): () => void {
  const listener = (event: Event): void => {
    const request = event as Partial<ContextRequestEvent<Bus>>;
    if (request.context !== busContext || typeof request.callback !== 'function') return;
    event.stopPropagation();
    request.callback(bus);
  };
  host.addEventListener('context-request', listener);
  return () => host.removeEventListener('context-request', listener);
}

/**
 * The bus for `element`: the one its nearest provider answers with, else the page-wide bus.
 * Call it when the element is connected, so the request can reach its ancestors.
 */
export function requestBus(element: EventTarget): Bus {
  let provided: Bus | undefined;
  element.dispatchEvent(new ContextRequestEvent<Bus>(busContext, (bus) => (provided = bus)));
  return provided ?? pageBus();
}
