import { ProtocolError } from './errors';
import { RECORD_SEPARATOR, writeRecord } from './text-message-format';
const SEPARATOR_CODE = 0x1e;
/**
 * Parses the handshake request that opens every connection. It is JSON text ending in 0x1E even
 * when the hub protocol is binary, and may be followed by hub messages in the same transport message.
 */
export function parseHandshake(input) {
    let text;
    let rest;
    if (typeof input === 'string') {
        const end = input.indexOf(RECORD_SEPARATOR);
        if (end === -1)
            throw new ProtocolError('Handshake is incomplete: missing the 0x1E record separator.');
        text = input.slice(0, end);
        rest = input.slice(end + 1);
    }
    else {
        const end = input.indexOf(SEPARATOR_CODE);
        if (end === -1)
            throw new ProtocolError('Handshake is incomplete: missing the 0x1E record separator.');
        text = new TextDecoder('utf-8', { fatal: false }).decode(input.subarray(0, end));
        rest = input.subarray(end + 1);
    }
    let json;
    try {
        json = JSON.parse(text);
    }
    catch {
        throw new ProtocolError('Handshake is not valid JSON.');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new ProtocolError('Handshake must be a JSON object with "protocol" and "version".');
    }
    const { protocol, version } = json;
    if (typeof protocol !== 'string' || protocol === '')
        throw new ProtocolError('Handshake is missing "protocol".');
    if (typeof version !== 'number' || !Number.isInteger(version))
        throw new ProtocolError('Handshake is missing "version".');
    return { request: { protocol, version }, rest };
}
/** The handshake reply: `{}` on success, `{"error": ...}` on failure. Never carries `type`. */
export function writeHandshakeResponse(error) {
    return writeRecord(error === undefined ? '{}' : JSON.stringify({ error }));
}
