export {HubBridge} from './lib/hub-bridge.js';
export type {ConnectionStatus, HubBridgeOptions, SubscribeResult, TopicEvent, TransportName} from './lib/hub-bridge.js';
export {pageHub} from './lib/page-hub.js';
export {ConnectionChanged, TopicTruncated} from './lib/system-contracts.js';
