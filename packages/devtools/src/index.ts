export {EventLog} from './lib/event-log.js';
export {causalTree} from './lib/causal-tree.js';
export type {CausalNode} from './lib/causal-tree.js';
export {overridesPanel, readOverrides, writeOverrides} from './lib/overrides-panel.js';
