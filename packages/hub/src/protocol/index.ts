export * from './hub-message.js';
export {MessageTooLargeError, ProtocolError} from './errors.js';
export type {HubProtocol, ParseOptions, TransferFormat} from './hub-protocol.js';
export {jsonHubProtocol} from './json-hub-protocol.js';
export {parseHandshake, writeHandshakeResponse} from './handshake.js';
export type {HandshakeRequest, ParsedHandshake} from './handshake.js';
export {parseRecords, RECORD_SEPARATOR, writeRecord} from './text-message-format.js';
export {messagePackHubProtocol} from './messagepack-hub-protocol.js';
export {parseLengthPrefixed, writeLengthPrefixed} from './binary-message-format.js';
