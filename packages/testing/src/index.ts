export {expect, test} from './lib/fixtures.js';
export type {SwitchboardFixtures} from './lib/fixtures.js';
export {PageBusProbe} from './lib/page-bus-probe.js';
export type {SeenRecord, WaitForEventOptions} from './lib/page-bus-probe.js';
export {TestHub} from './lib/test-hub.js';
export type {DropMode, TestHubOptions} from './lib/test-hub.js';
