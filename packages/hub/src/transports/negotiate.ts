import type {TransferFormat} from '../protocol/index.js';
import type {TransportKind} from './transport-connection.js';

/** One transport offered by negotiate, with the transfer formats it carries. */
export interface AvailableTransport {
  readonly transport: TransportKind;
  readonly transferFormats: readonly TransferFormat[];
}

/** Transfer formats each transport can carry: SSE is text only. */
export const TRANSFER_FORMATS: Readonly<Record<TransportKind, readonly TransferFormat[]>> = {
  WebSockets: ['Text', 'Binary'],
  ServerSentEvents: ['Text'],
  LongPolling: ['Text', 'Binary'],
};

/** The highest negotiate version this server speaks. */
export const NEGOTIATE_VERSION = 1;

/** The body of a successful negotiate response. */
export interface NegotiateResponse {
  readonly connectionId: string;
  readonly connectionToken?: string;
  readonly negotiateVersion: number;
  readonly availableTransports: readonly AvailableTransport[];
  readonly useStatefulReconnect?: true;
}

/**
 * Builds the negotiate response. Version 1 hands out a secret token beside the public id; version 0
 * clients use the id as the token, so they get no token. `useStatefulReconnect` is only ever echoed:
 * the official client fails if a server offers it unasked. There is never a `ProtocolVersion` field,
 * which would make the client take this for a legacy ASP.NET SignalR server.
 */
export function negotiateResponse(options: {
  readonly requestedVersion: number;
  readonly connectionId: string;
  readonly connectionToken: string;
  readonly transports: readonly TransportKind[];
  readonly statefulReconnect: boolean;
}): NegotiateResponse {
  const version = Math.max(0, Math.min(options.requestedVersion, NEGOTIATE_VERSION));
  return {
    connectionId: options.connectionId,
    ...(version >= 1 ? {connectionToken: options.connectionToken} : {}),
    negotiateVersion: version,
    availableTransports: options.transports.map((transport) => ({transport, transferFormats: TRANSFER_FORMATS[transport]})),
    ...(options.statefulReconnect ? {useStatefulReconnect: true as const} : {}),
  };
}

/** Reads `negotiateVersion` from a negotiate URL: 0 when absent or not a whole number. */
export function requestedNegotiateVersion(url: URL): number {
  const raw = url.searchParams.get('negotiateVersion');
  const n = raw === null ? 0 : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
