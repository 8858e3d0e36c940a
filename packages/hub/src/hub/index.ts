export {Hub} from './hub.js';
export type {HubOptions} from './hub.js';
export {HubClients} from './clients.js';
export type {ClientProxy} from './clients.js';
export {HubConnection, isCounted} from './hub-connection.js';
export type {ConnectionPhase} from './hub-connection.js';
export {HubError} from './hub-error.js';
export {uploadStream} from './hub-method.js';
export type {
  CallerClients,
  HubArgs,
  HubFilter,
  HubMethod,
  HubParam,
  HubParams,
  HubStreamMethod,
  InvocationContext,
  UploadStreamParam,
} from './hub-method.js';
export {UploadStream} from './upload-stream.js';
export {DEFAULT_RECEIVE_QUEUE_LIMITS} from './receive-queue.js';
export type {ReceiveQueueLimits} from './receive-queue.js';
