export { Hub } from './hub';
export { HubClients } from './clients';
export { HubConnection, isCounted } from './hub-connection';
export { HubError } from './hub-error';
export { uploadStream } from './hub-method';
export { UploadStream } from './upload-stream';
