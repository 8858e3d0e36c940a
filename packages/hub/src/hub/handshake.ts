import {parseHandshake, ProtocolError, type HubProtocol} from '../protocol/index.js';
import type {TransportKind} from '../transports/transport-connection.js';

/** What a handshake request settled: the protocol and version agreed, or why the connection is refused. */
export type HandshakeOutcome =
  | {readonly protocol: HubProtocol; readonly version: number; readonly rest: string | Uint8Array}
  | {readonly error: string};

/**
 * Reads a handshake request and picks the protocol it asks for among `protocols` (internal to the hub;
 * no I/O). `rest` is what followed the request in the same transport message. Throws only what is
 * not a {@link ProtocolError}.
 */
export function negotiate(data: string | Uint8Array, protocols: ReadonlyMap<string, HubProtocol>, transport: TransportKind): HandshakeOutcome {
  let parsed;
  try {
    parsed = parseHandshake(data);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return {error: error.message};
  }
  const {request, rest} = parsed;
  const protocol = protocols.get(request.protocol);
  if (protocol === undefined) return {error: `The protocol '${request.protocol}' is not supported.`};
  if (protocol.transferFormat === 'Binary' && transport === 'ServerSentEvents') {
    return {error: `The '${protocol.name}' protocol is binary and cannot travel over ServerSentEvents.`};
  }
  if (request.version < 1 || request.version > protocol.version) {
    return {error: `The server does not support version ${request.version} of the '${protocol.name}' protocol.`};
  }
  return {protocol, version: request.version, rest};
}
