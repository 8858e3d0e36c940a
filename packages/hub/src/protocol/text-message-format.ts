import {ProtocolError} from './errors.js';

/** The JSON protocol's record separator, 0x1E. Every record, handshake included, ends with it. */
export const RECORD_SEPARATOR = '\u001e';

/** Appends the record separator. */
export function writeRecord(text: string): string {
  return text + RECORD_SEPARATOR;
}

/**
 * Splits a transport message into its records. A transport message always ends on a record
 * boundary, so text after the last separator is an incomplete record: a protocol error.
 */
export function parseRecords(input: string): string[] {
  return Array.from(readRecords(input));
}

/**
 * {@link parseRecords} one record at a time: a reader that stops early (a limit, an error) pays
 * only for what it read. The missing final separator is reported before any record.
 */
export function* readRecords(input: string): Generator<string, void, undefined> {
  if (!input.endsWith(RECORD_SEPARATOR)) throw new ProtocolError('Message is incomplete: missing the 0x1E record separator.');
  let start = 0;
  while (start < input.length) {
    const end = input.indexOf(RECORD_SEPARATOR, start);
    yield input.slice(start, end);
    start = end + 1;
  }
}
