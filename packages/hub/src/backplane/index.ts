export {MemoryBackplane} from './backplane.js';
export type {Audience, Backplane, BackplaneMessage} from './backplane.js';
