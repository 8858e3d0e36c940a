import {checkDepth} from './depth.js';
import {MessageTooLargeError, ProtocolError, TooManyMessagesError} from './errors.js';
import {MessageType, type HubMessage} from './hub-message.js';
import type {HubProtocol, ParseOptions, ReadMessage} from './hub-protocol.js';
import {readRecords, writeRecord} from './text-message-format.js';

const decoder = new TextDecoder('utf-8', {fatal: true});
const encoder = new TextEncoder();

/**
 * The SignalR JSON hub protocol, version 2: one JSON object per record, records ending in 0x1E.
 * Validates every field it reads, so the hub only ever sees well-formed messages.
 */
export const jsonHubProtocol: HubProtocol = {
  name: 'json',
  version: 2,
  transferFormat: 'Text',

  parseMessages(input: string | Uint8Array, options?: ParseOptions): HubMessage[] {
    return Array.from(readMessages(input, options), (read) => read.message);
  },

  readMessages,

  writeMessage(message: HubMessage): Uint8Array {
    // JSON carries no headers. A present `result` of undefined is written as null, not dropped.
    const {headers: _headers, ...fields} = message as HubMessage & {headers?: unknown};
    if ('result' in fields && fields.result === undefined) (fields as {result: unknown}).result = null;
    // A Buffer (a Uint8Array) rather than TextEncoder's output: sockets take it without wrapping it again.
    return Buffer.from(writeRecord(JSON.stringify(fields)));
  },

  writeInvocationJson(target: string, argumentsJson: string): Uint8Array {
    // The key order JSON.stringify gives {type, target, arguments}: the same bytes as writeMessage.
    return Buffer.from(writeRecord(`{"type":${MessageType.Invocation},"target":${JSON.stringify(target)},"arguments":${argumentsJson}}`));
  },
};

function* readMessages(input: string | Uint8Array, options: ParseOptions = {}): Generator<ReadMessage, void, undefined> {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new ProtocolError('Message is not valid UTF-8.');
    }
  }
  const max = options.maxMessageSize ?? Number.POSITIVE_INFINITY;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  let count = 0;
  for (const record of readRecords(text)) {
    if (++count > maxMessages) throw new TooManyMessagesError(maxMessages);
    // A UTF-16 unit is at most 3 UTF-8 bytes: only a record that might be too long is measured.
    if (record.length * 3 > max && encoder.encode(record).byteLength + 1 > max) throw new MessageTooLargeError(max);
    let json: unknown;
    try {
      json = JSON.parse(record);
    } catch {
      throw new ProtocolError('Message is not valid JSON.');
    }
    checkDepth(json, maxDepth);
    const message = toMessage(json);
    if (message !== undefined) yield {message, size: record.length + 1};
  }
}

function toMessage(json: unknown): HubMessage | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('Message must be a JSON object.');
  }
  const m = json as Record<string, unknown>;
  if (typeof m['type'] !== 'number' || !Number.isInteger(m['type'])) throw new ProtocolError('Message is missing "type".');
  switch (m['type']) {
    case MessageType.Invocation: {
      const invocationId = optionalString(m, 'invocationId');
      return {
        type: MessageType.Invocation,
        ...(invocationId === undefined ? {} : {invocationId}),
        target: requiredString(m, 'target'),
        arguments: requiredArray(m, 'arguments'),
        ...streamIds(m),
      };
    }
    case MessageType.StreamInvocation:
      return {
        type: MessageType.StreamInvocation,
        invocationId: requiredString(m, 'invocationId'),
        target: requiredString(m, 'target'),
        arguments: requiredArray(m, 'arguments'),
        ...streamIds(m),
      };
    case MessageType.StreamItem:
      return {type: MessageType.StreamItem, invocationId: requiredString(m, 'invocationId'), item: m['item'] ?? null};
    case MessageType.Completion: {
      const invocationId = requiredString(m, 'invocationId');
      const error = optionalString(m, 'error');
      if (error !== undefined && 'result' in m) throw new ProtocolError('Completion has both "error" and "result".');
      if (error !== undefined) return {type: MessageType.Completion, invocationId, error};
      return 'result' in m
        ? {type: MessageType.Completion, invocationId, result: m['result']}
        : {type: MessageType.Completion, invocationId};
    }
    case MessageType.CancelInvocation:
      return {type: MessageType.CancelInvocation, invocationId: requiredString(m, 'invocationId')};
    case MessageType.Ping:
      return {type: MessageType.Ping};
    case MessageType.Close: {
      const error = optionalString(m, 'error');
      const allowReconnect = m['allowReconnect'];
      if (allowReconnect !== undefined && typeof allowReconnect !== 'boolean') {
        throw new ProtocolError('"allowReconnect" must be a boolean.');
      }
      return {
        type: MessageType.Close,
        ...(error === undefined ? {} : {error}),
        ...(allowReconnect === undefined ? {} : {allowReconnect}),
      };
    }
    case MessageType.Ack:
      return {type: MessageType.Ack, sequenceId: sequenceId(m)};
    case MessageType.Sequence:
      return {type: MessageType.Sequence, sequenceId: sequenceId(m)};
    default:
      // New message types may appear in later protocol versions; the protocol says to ignore them.
      return undefined;
  }
}

function requiredString(m: Record<string, unknown>, key: string): string {
  const value = m[key];
  if (typeof value !== 'string') throw new ProtocolError(`Message is missing the string "${key}".`);
  return value;
}

function optionalString(m: Record<string, unknown>, key: string): string | undefined {
  const value = m[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ProtocolError(`"${key}" must be a string.`);
  return value;
}

function requiredArray(m: Record<string, unknown>, key: string): unknown[] {
  const value = m[key];
  if (!Array.isArray(value)) throw new ProtocolError(`Message is missing the array "${key}".`);
  return value;
}

function streamIds(m: Record<string, unknown>): {streamIds?: string[]} {
  const value = m['streamIds'];
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new ProtocolError('"streamIds" must be an array of strings.');
  }
  return value.length === 0 ? {} : {streamIds: value as string[]};
}

function sequenceId(m: Record<string, unknown>): number {
  const value = m['sequenceId'];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError('"sequenceId" must be a non-negative integer.');
  }
  return value;
}
