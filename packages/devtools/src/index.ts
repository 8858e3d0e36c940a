export {EventLog} from './lib/event-log';
export {causalTree} from './lib/causal-tree';
export type {CausalNode} from './lib/causal-tree';
