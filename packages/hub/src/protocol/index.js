export * from './hub-message';
export { ProtocolError } from './errors';
export { jsonHubProtocol } from './json-hub-protocol';
export { parseHandshake, writeHandshakeResponse } from './handshake';
export { parseRecords, RECORD_SEPARATOR, writeRecord } from './text-message-format';
export { messagePackHubProtocol } from './messagepack-hub-protocol';
export { parseLengthPrefixed, writeLengthPrefixed } from './binary-message-format';
