import type {Envelope} from '@switchboard/contracts';
import type {Bus} from './bus.js';
import type {TypePattern} from './patterns.js';
import {SeenIds} from './seen-ids.js';

/** Options of {@link shareAcrossTabs}. */
export interface CrossTabOptions {
  /** The types (patterns allowed) to share; nothing else leaves the tab. */
  readonly types: readonly TypePattern[];
  /** The BroadcastChannel name; tabs share with tabs that use the same one. Default `switchboard`. */
  readonly channel?: string;
}

/**
 * Shares chosen event types with the other tabs of this origin over a BroadcastChannel. What
 * arrives from another tab is validated like any outside input and deduplicated by envelope id, and
 * is never sent back out. Returns a function that stops sharing.
 *
 * ```ts
 * shareAcrossTabs(bus, {types: ['cart.*', 'session.ended']});
 * ```
 */
export function shareAcrossTabs(bus: Bus, options: CrossTabOptions): () => void {
  const channel = new BroadcastChannel(options.channel ?? 'switchboard');
  /** Ids that came from other tabs: delivered here, not echoed back. */
  const fromOtherTabs = new SeenIds(10_000);
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const id = (event.data as {id?: unknown} | null)?.id;
    if (typeof id === 'string' && !fromOtherTabs.has(id)) fromOtherTabs.add(id);
    bus.ingest(event.data, 'tab');
  };
  const stops = options.types.map((type) =>
    bus.subscribe(
      type,
      (envelope: Envelope) => {
        if (!fromOtherTabs.has(envelope.id)) channel.postMessage(envelope);
      },
      {name: 'cross-tab', replay: false},
    ),
  );
  return () => {
    for (const stop of stops) stop();
    channel.close();
  };
}
