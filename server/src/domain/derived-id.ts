import {createHash} from 'node:crypto';

/**
 * A UUID-shaped id (version 8: derived, not random) computed from `basis`. A service that handles
 * the same event again derives the same ids for what it publishes, so the topic log, which
 * deduplicates by envelope id, stores those events once.
 */
export function uuidOf(basis: string): string {
  const h = createHash('sha256').update(basis).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
