import {ProtocolError} from './errors.js';
import {RECORD_SEPARATOR, writeRecord} from './text-message-format.js';

/** The client's first message: which hub protocol it speaks, and which version. */
export interface HandshakeRequest {
  readonly protocol: string;
  readonly version: number;
}

/** A parsed handshake and whatever followed it in the same transport message. */
export interface ParsedHandshake {
  readonly request: HandshakeRequest;
  /** Bytes or text after the handshake's record separator; empty when none. */
  readonly rest: string | Uint8Array;
}

const SEPARATOR_CODE = 0x1e;

/**
 * Parses the handshake request that opens every connection. It is JSON text ending in 0x1E even
 * when the hub protocol is binary, and may be followed by hub messages in the same transport message.
 */
export function parseHandshake(input: string | Uint8Array): ParsedHandshake {
  let text: string;
  let rest: string | Uint8Array;
  if (typeof input === 'string') {
    const end = input.indexOf(RECORD_SEPARATOR);
    if (end === -1) throw new ProtocolError('Handshake is incomplete: missing the 0x1E record separator.');
    text = input.slice(0, end);
    rest = input.slice(end + 1);
  } else {
    const end = input.indexOf(SEPARATOR_CODE);
    if (end === -1) throw new ProtocolError('Handshake is incomplete: missing the 0x1E record separator.');
    text = new TextDecoder('utf-8', {fatal: false}).decode(input.subarray(0, end));
    rest = input.subarray(end + 1);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError('Handshake is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('Handshake must be a JSON object with "protocol" and "version".');
  }
  const {protocol, version} = json as Record<string, unknown>;
  if (typeof protocol !== 'string' || protocol === '') throw new ProtocolError('Handshake is missing "protocol".');
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new ProtocolError('Handshake is missing "version".');
  return {request: {protocol, version}, rest};
}

/** The handshake reply: `{}` on success, `{"error": ...}` on failure. Never carries `type`. */
export function writeHandshakeResponse(error?: string): string {
  return writeRecord(error === undefined ? '{}' : JSON.stringify({error}));
}
