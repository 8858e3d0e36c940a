export {HubBridge} from './lib/hub-bridge.js';
export type {ConnectionState, ConnectionStatus, HubBridgeOptions, TopicWatcher, TransportName} from './lib/hub-bridge.js';
/** The hub's wire shapes, re-exported from `@switchboard/contracts` where they are defined. */
export type {SubscribeResult, TopicEvent} from '@switchboard/contracts';
export {declaredTokenFactory, TOKEN_URL_META, tokenFromUrl} from './lib/access-token.js';
export {AuthenticationError} from './lib/auth-failure.js';
export type {AccessTokenFactory} from './lib/access-token.js';
export {CommandInterruptedError, describeCommandError, OfflineError} from './lib/errors.js';
export {Outbox} from './lib/outbox.js';
export type {OutboxEntry, OutboxLimits} from './lib/outbox.js';
export type {ReconnectOptions} from './lib/retry-policy.js';
export {pageHub} from './lib/page-hub.js';
export {projection} from './lib/projection.js';
export type {Projection, ProjectionOptions, Snapshot} from './lib/projection.js';
export {ConnectionChanged, TopicTruncated} from './lib/system-contracts.js';
