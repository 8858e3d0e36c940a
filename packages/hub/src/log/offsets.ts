import {randomBytes} from 'node:crypto';

/**
 * Offsets are `<epoch>:<seq>`: the epoch names one life of a log (random per in-memory log, so a
 * restart changes it; a Redis engine keeps one per stream), the sequence number counts within a
 * topic. Clients treat the whole string as opaque. An offset of another epoch, or one past a
 * topic's head, cannot be honoured truthfully, so a read from it reports `truncated` instead of
 * silently skipping whatever the new life of the log numbered below it.
 */
export interface ParsedOffset {
  /** The epoch the offset was issued in; `null` for a bare number (a server without epochs). */
  readonly epoch: string | null;
  readonly seq: number;
}

/** An epoch: 1–32 URL-safe characters, never a `:`. */
const EPOCH = /^[A-Za-z0-9_-]{1,32}$/;
const OFFSET = /^(?:([A-Za-z0-9_-]{1,32}):)?(0|[1-9][0-9]{0,15})$/;

/** A fresh random epoch: 48 bits in 8 URL-safe characters, so two lives of a log never share one. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/** Writes the offset of `seq` in `epoch`. */
export function formatOffset(epoch: string, seq: number): string {
  if (!EPOCH.test(epoch)) throw new TypeError(`"${epoch}" is not an epoch: use 1-32 letters, digits, "_" or "-"`);
  return `${epoch}:${seq}`;
}

/**
 * Reads an offset; undefined when it is malformed. A bare decimal number is well formed (offsets of
 * logs without epochs looked like that) but belongs to no epoch, so it always reads as foreign.
 */
export function parseOffset(offset: string): ParsedOffset | undefined {
  const match = OFFSET.exec(offset);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return {epoch: match[1] ?? null, seq};
}
