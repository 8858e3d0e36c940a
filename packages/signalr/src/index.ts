export {HubBridge} from './lib/hub-bridge';
export type {ConnectionStatus, HubBridgeOptions, SubscribeResult, TopicEvent, TransportName} from './lib/hub-bridge';
export {pageHub} from './lib/page-hub';
export {ConnectionChanged, TopicTruncated} from './lib/system-contracts';
