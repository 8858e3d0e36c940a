import {pageBus, type Bus} from '@switchboard/bus';
import {HubBridge, type HubBridgeOptions} from './hub-bridge.js';

/** The `globalThis` key of the page's hub bridges, shared by separately built bundles. */
const PAGE_HUBS = Symbol.for('switchboard.page-hubs');

type WithPageHubs = typeof globalThis & {[PAGE_HUBS]?: Map<string, HubBridge>};

/**
 * The page's one bridge to the hub at `url` (resolved against the page's address), created and
 * started on first use (`options` only count then). Every element and the shell share it: one connection per page and hub,
 * never one per element.
 *
 * ```ts
 * await pageHub('/hubs/events').follow('orders');
 * ```
 */
export function pageHub(url: string, bus: Bus = pageBus(), options: Omit<HubBridgeOptions, 'url' | 'bus'> = {}): HubBridge {
  const g = globalThis as WithPageHubs;
  const hubs = (g[PAGE_HUBS] ??= new Map());
  const absolute = typeof location === 'undefined' ? url : new URL(url, location.href).href;
  let hub = hubs.get(absolute);
  if (hub === undefined) {
    hub = new HubBridge({url: absolute, bus, ...options});
    hubs.set(absolute, hub);
    // The bridge retries by itself and says so, one line per state change; a rejection means it gave up, already reported.
    hub.start().catch(() => {});
  }
  return hub;
}
