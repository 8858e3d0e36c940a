/**
 * Input that breaks the protocol (bad framing, invalid JSON, a malformed message). The hub closes
 * the connection that sent it with this message; other connections are unaffected.
 */
export class ProtocolError extends Error {
    name = 'ProtocolError';
}
