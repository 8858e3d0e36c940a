export {MemoryBackplane} from './backplane.js';
export type {Audience, Backplane, BackplaneMessage, BackplaneStats, RemoteInvoker, Scope} from './backplane.js';
