import {Bus} from './bus.js';

/** The `globalThis` key of the page-wide bus; `Symbol.for` so separately built bundles share it. */
const PAGE_BUS = Symbol.for('switchboard.page-bus');

type WithPageBus = typeof globalThis & {[PAGE_BUS]?: Bus};

/**
 * The one bus of this page. The shell installs its own with {@link installPageBus}; an element
 * embedded without a shell gets a bus created on first use and attached to `document`. Every bundle
 * on the page, however it was built, gets the same instance.
 */
export function pageBus(): Bus {
  const g = globalThis as WithPageBus;
  let bus = g[PAGE_BUS];
  if (bus === undefined) {
    bus = new Bus();
    if (typeof document !== 'undefined') bus.attach(document);
    g[PAGE_BUS] = bus;
  }
  return bus;
}

/**
 * Makes `bus` the page's bus. Throws if another bus is already installed, since two buses on one
 * page would split its traffic.
 */
export function installPageBus(bus: Bus): Bus {
  const g = globalThis as WithPageBus;
  const existing = g[PAGE_BUS];
  if (existing !== undefined && existing !== bus) {
    throw new Error('switchboard: this page already has a bus; install the shell bus before any element asks for one');
  }
  g[PAGE_BUS] = bus;
  return bus;
}
