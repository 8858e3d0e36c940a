import {pageBus, type Bus} from '@switchboard/bus';
import {declaredTokenFactory} from './access-token.js';
import {HubBridge, type HubBridgeOptions} from './hub-bridge.js';

/** The `globalThis` key of the page's hub bridges, shared by separately built bundles. */
const PAGE_HUBS = Symbol.for('switchboard.page-hubs');

type WithPageHubs = typeof globalThis & {[PAGE_HUBS]?: Map<string, HubBridge>};

/**
 * The page's one bridge to the hub at `url` (resolved against the page's address), created and
 * started on first use (`options` only count then). Every element and the shell share it: one connection per page and hub,
 * never one per element. Without an `accessTokenFactory` in `options`, a `<meta name="switchboard-token-url"
 * content="/auth/token">` in the document supplies one ({@link tokenFromUrl}), so pages that only embed
 * elements can connect to hubs that require tokens.
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
    const declared = options.accessTokenFactory === undefined && options.connection === undefined ? declaredTokenFactory() : undefined;
    hub = new HubBridge({url: absolute, bus, ...(declared === undefined ? {} : {accessTokenFactory: declared}), ...options});
    hubs.set(absolute, hub);
    // The bridge retries by itself and says so, one line per state change; a rejection means it gave up, already reported.
    hub.start().catch(() => {});
  }
  return hub;
}
