import type {HubMessage} from './hub-message.js';

/** How a hub protocol's messages travel: text frames or binary frames. */
export type TransferFormat = 'Text' | 'Binary';

/**
 * A hub protocol: turns transport messages into hub messages and back. Implementations are pure:
 * no I/O, no state between calls.
 */
export interface HubProtocol {
  /** The name the handshake asks for: `json`, `messagepack`. */
  readonly name: string;
  /** The highest protocol version understood. */
  readonly version: number;
  readonly transferFormat: TransferFormat;
  /**
   * Parses one transport message into its hub messages, in order. Throws `ProtocolError` on
   * malformed input. Messages of unknown types are skipped, as the protocol allows new types.
   */
  parseMessages(input: string | Uint8Array): HubMessage[];
  /** Serializes one message, framing included. */
  writeMessage(message: HubMessage): Uint8Array;
}
