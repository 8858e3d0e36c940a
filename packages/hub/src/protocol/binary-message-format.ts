import {ProtocolError} from './errors.js';

/** Longest length prefix: 5 bytes of 7 bits hold lengths up to 2 GB. */
const MAX_PREFIX = 5;

/** Prefixes `body` with its length as a varint (7 bits a byte, least significant first). */
export function writeLengthPrefixed(body: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let size = body.byteLength;
  do {
    let part = size & 0x7f;
    size >>>= 7;
    if (size > 0) part |= 0x80;
    prefix.push(part);
  } while (size > 0);
  // A Buffer (a Uint8Array) so sockets take it without wrapping it again.
  const out = Buffer.allocUnsafe(prefix.length + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

/** Splits a transport message into its length-prefixed bodies; a truncated one is a ProtocolError. */
export function parseLengthPrefixed(input: Uint8Array): Uint8Array[] {
  return Array.from(readLengthPrefixed(input), (framed) => framed.body);
}

/** One length-prefixed body and the bytes it took with its prefix. */
export interface LengthPrefixed {
  readonly body: Uint8Array;
  readonly size: number;
}

/**
 * {@link parseLengthPrefixed} one body at a time: a reader that stops early (a limit, an error)
 * pays only for what it read, and a malformed prefix is reported when the reader reaches it.
 */
export function* readLengthPrefixed(input: Uint8Array): Generator<LengthPrefixed, void, undefined> {
  let offset = 0;
  while (offset < input.byteLength) {
    let size = 0;
    let read = 0;
    let byte: number;
    do {
      if (offset + read >= input.byteLength) throw new ProtocolError('Message is incomplete: truncated length prefix.');
      byte = input[offset + read]!;
      size += (byte & 0x7f) * 2 ** (7 * read);
      read++;
    } while ((byte & 0x80) !== 0 && read < MAX_PREFIX);
    if ((byte & 0x80) !== 0 || (read === MAX_PREFIX && byte > 7)) throw new ProtocolError('Message length prefix is invalid.');
    const start = offset + read;
    if (start + size > input.byteLength) throw new ProtocolError('Message is incomplete: the body is shorter than its length prefix.');
    yield {body: input.subarray(start, start + size), size: read + size};
    offset = start + size;
  }
}
