export {HubBridge} from './lib/hub-bridge.js';
export type {ConnectionStatus, HubBridgeOptions, TransportName} from './lib/hub-bridge.js';
/** The hub's wire shapes, re-exported from `@switchboard/contracts` where they are defined. */
export type {SubscribeResult, TopicEvent} from '@switchboard/contracts';
export {pageHub} from './lib/page-hub.js';
export {ConnectionChanged, TopicTruncated} from './lib/system-contracts.js';
