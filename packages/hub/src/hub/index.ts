export {Hub} from './hub';
export type {HubOptions} from './hub';
export {HubClients} from './clients';
export type {ClientProxy} from './clients';
export {HubConnection, isCounted} from './hub-connection';
export type {ConnectionPhase} from './hub-connection';
export {HubError} from './hub-error';
export {uploadStream} from './hub-method';
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
} from './hub-method';
export {UploadStream} from './upload-stream';
