export {MemoryBackplane} from './backplane';
export type {Audience, Backplane, BackplaneMessage} from './backplane';
