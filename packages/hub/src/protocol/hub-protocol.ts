import type {HubMessage} from './hub-message.js';

/** How a hub protocol's messages travel: text frames or binary frames. */
export type TransferFormat = 'Text' | 'Binary';

/** Bounds applied while parsing. */
export interface ParseOptions {
  /** Largest single hub message, in bytes; a larger one throws `MessageTooLargeError`. */
  readonly maxMessageSize?: number;
  /** Most hub messages read from one transport message; one more throws `TooManyMessagesError`. */
  readonly maxMessages?: number;
  /** Deepest nesting of arrays and objects in a message (the message itself is level 1); deeper throws `NestingTooDeepError`. */
  readonly maxDepth?: number;
}

/** A hub message read from a transport message, with the bytes it took there (framing included; UTF-16 units for text). */
export interface ReadMessage {
  readonly message: HubMessage;
  readonly size: number;
}

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
   * `maxMessageSize` bounds each hub message (a JSON record, a MessagePack body), checked before
   * it is decoded.
   */
  parseMessages(input: string | Uint8Array, options?: ParseOptions): HubMessage[];
  /**
   * {@link parseMessages} one message at a time, each with its size: the hub reads a transport
   * message only as fast as it handles its messages, so the cost of a transport message holding
   * many tiny ones is paid one message at a time. Errors are thrown when the reader reaches them
   * (the messages before were yielded).
   */
  readMessages(input: string | Uint8Array, options?: ParseOptions): Iterable<ReadMessage>;
  /** Serializes one message, framing included. */
  writeMessage(message: HubMessage): Uint8Array;
  /**
   * Serializes an Invocation (no invocation id) whose arguments are JSON text already, as
   * {@link writeMessage} would: lets the hub forward stored events without parsing them. Only text
   * protocols have it.
   */
  writeInvocationJson?(target: string, argumentsJson: string): Uint8Array;
}
