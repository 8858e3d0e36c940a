export {MemoryBackplane} from './backplane.js';
export type {Audience, Backplane, BackplaneMessage, RemoteInvoker} from './backplane.js';
