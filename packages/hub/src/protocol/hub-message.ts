/** The SignalR hub message types (HubProtocol.md), numbered as on the wire. */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

/** One of {@link MessageType}'s values. */
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** Headers some messages may carry (MessagePack only; JSON carries none in practice). */
export type MessageHeaders = Readonly<Record<string, string>>;

/** Calls `target` with `args`; with an `invocationId` the caller expects a Completion. */
export interface InvocationMessage {
  readonly type: typeof MessageType.Invocation;
  readonly invocationId?: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds?: readonly string[];
  readonly headers?: MessageHeaders;
}

/** One item of a stream, in either direction. */
export interface StreamItemMessage {
  readonly type: typeof MessageType.StreamItem;
  readonly invocationId: string;
  readonly item: unknown;
  readonly headers?: MessageHeaders;
}

/** Ends an invocation or a stream: with `error`, with `result` (present as a key, even when null), or with neither (void). */
export interface CompletionMessage {
  readonly type: typeof MessageType.Completion;
  readonly invocationId: string;
  readonly error?: string;
  readonly result?: unknown;
  readonly headers?: MessageHeaders;
}

/** Calls a streaming `target`: the server answers with StreamItems then a Completion. */
export interface StreamInvocationMessage {
  readonly type: typeof MessageType.StreamInvocation;
  readonly invocationId: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds?: readonly string[];
  readonly headers?: MessageHeaders;
}

/** Asks the other side to stop a stream it is producing. */
export interface CancelInvocationMessage {
  readonly type: typeof MessageType.CancelInvocation;
  readonly invocationId: string;
  readonly headers?: MessageHeaders;
}

/** Keep-alive. */
export interface PingMessage {
  readonly type: typeof MessageType.Ping;
}

/** The sender is closing the connection, with an error or not; `allowReconnect` invites the client back. */
export interface CloseMessage {
  readonly type: typeof MessageType.Close;
  readonly error?: string;
  readonly allowReconnect?: boolean;
}

/** Stateful reconnect: every counted message up to `sequenceId` arrived. */
export interface AckMessage {
  readonly type: typeof MessageType.Ack;
  readonly sequenceId: number;
}

/** Stateful reconnect: the next counted message is `sequenceId`. */
export interface SequenceMessage {
  readonly type: typeof MessageType.Sequence;
  readonly sequenceId: number;
}

/** Every hub message, tagged by `type`. */
export type HubMessage =
  | InvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | StreamInvocationMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage;
