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
  if (!input.endsWith(RECORD_SEPARATOR)) throw new ProtocolError('Message is incomplete: missing the 0x1E record separator.');
  const records = input.split(RECORD_SEPARATOR);
  records.pop();
  return records;
}
