/**
 * Input that breaks the protocol (bad framing, invalid JSON, a malformed message). The hub closes
 * the connection that sent it with this message; other connections are unaffected.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * One hub message is larger than the hub accepts (ASP.NET's `MaximumReceiveMessageSize`, applied
 * to each hub message, not to the transport message that may carry several).
 */
export class MessageTooLargeError extends ProtocolError {
  constructor(readonly limit: number) {
    super(`The maximum message size of ${limit}B was exceeded.`);
  }
}

/**
 * One transport message carried more hub messages than the hub reads from one (its messages up to
 * the limit were read and handled; the connection is closed).
 */
export class TooManyMessagesError extends ProtocolError {
  constructor(readonly limit: number) {
    super(`A transport message held more than ${limit} hub messages (option maximumMessagesPerTransportMessage).`);
  }
}

/** A hub message nests arrays and objects deeper than the hub accepts (System.Text.Json's MaxDepth). */
export class NestingTooDeepError extends ProtocolError {
  constructor(readonly limit: number) {
    super(`A message nests arrays and objects deeper than ${limit} levels (option maximumNestingDepth).`);
  }
}
