export { MemoryBackplane } from './backplane';
