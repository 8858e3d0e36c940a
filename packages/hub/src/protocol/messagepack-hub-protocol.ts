import {decode, Encoder} from '@msgpack/msgpack';
import {readLengthPrefixed, writeLengthPrefixed} from './binary-message-format.js';
import {checkDepth} from './depth.js';
import {MessageTooLargeError, ProtocolError, TooManyMessagesError} from './errors.js';
import {MessageType, type HubMessage, type MessageHeaders} from './hub-message.js';
import type {HubProtocol, ParseOptions, ReadMessage} from './hub-protocol.js';

/** Completion result kinds of the MessagePack protocol. */
const ERROR_RESULT = 1;
const VOID_RESULT = 2;
const NON_VOID_RESULT = 3;

const encoder = new Encoder({ignoreUndefined: true});

/**
 * The SignalR MessagePack hub protocol, version 2: each message a MessagePack array behind a varint
 * length prefix. Encoding and decoding are `@msgpack/msgpack`'s; this file only maps arrays to
 * messages and checks every field.
 */
export const messagePackHubProtocol: HubProtocol = {
  name: 'messagepack',
  version: 2,
  transferFormat: 'Binary',

  parseMessages(input: string | Uint8Array, options?: ParseOptions): HubMessage[] {
    return Array.from(readMessages(input, options), (read) => read.message);
  },

  readMessages,

  writeMessage(message: HubMessage): Uint8Array {
    return writeLengthPrefixed(encoder.encode(toArray(message)));
  },
};

function* readMessages(input: string | Uint8Array, options: ParseOptions = {}): Generator<ReadMessage, void, undefined> {
  if (typeof input === 'string') throw new ProtocolError('The MessagePack protocol takes binary messages, not text.');
  const max = options.maxMessageSize ?? Number.POSITIVE_INFINITY;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  let count = 0;
  for (const {body, size} of readLengthPrefixed(input)) {
    if (++count > maxMessages) throw new TooManyMessagesError(maxMessages);
    if (body.byteLength > max) throw new MessageTooLargeError(max);
    let value: unknown;
    try {
      value = decode(body);
    } catch (error) {
      throw new ProtocolError(`Message is not valid MessagePack: ${(error as Error).message}`);
    }
    checkDepth(value, maxDepth);
    const message = toMessage(value);
    if (message !== undefined) yield {message, size};
  }
}

function toArray(m: HubMessage): unknown[] {
  switch (m.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation: {
      const head = [m.type, m.headers ?? {}, m.invocationId ?? null, m.target, m.arguments];
      return m.streamIds === undefined ? head : [...head, m.streamIds];
    }
    case MessageType.StreamItem:
      return [m.type, m.headers ?? {}, m.invocationId, m.item ?? null];
    case MessageType.Completion:
      if (m.error !== undefined) return [m.type, m.headers ?? {}, m.invocationId, ERROR_RESULT, m.error];
      if ('result' in m) return [m.type, m.headers ?? {}, m.invocationId, NON_VOID_RESULT, m.result ?? null];
      return [m.type, m.headers ?? {}, m.invocationId, VOID_RESULT];
    case MessageType.CancelInvocation:
      return [m.type, m.headers ?? {}, m.invocationId];
    case MessageType.Ping:
      return [m.type];
    case MessageType.Close:
      return m.allowReconnect === undefined ? [m.type, m.error ?? null] : [m.type, m.error ?? null, m.allowReconnect];
    case MessageType.Ack:
    case MessageType.Sequence:
      return [m.type, m.sequenceId];
  }
}

function toMessage(value: unknown): HubMessage | undefined {
  if (!Array.isArray(value) || value.length === 0) throw new ProtocolError('Message must be a MessagePack array.');
  const type = value[0] as unknown;
  if (typeof type !== 'number' || !Number.isInteger(type)) throw new ProtocolError('Message is missing its type.');
  const at = (index: number, what: string): unknown => {
    if (value.length <= index) throw new ProtocolError(`Message of type ${type} is missing ${what}.`);
    return value[index];
  };
  switch (type) {
    case MessageType.Invocation: {
      const headers = readHeaders(at(1, 'headers'));
      const id = at(2, 'the invocation id');
      if (id !== null && typeof id !== 'string') throw new ProtocolError('The invocation id must be a string or nil.');
      return {
        type,
        ...(headers === undefined ? {} : {headers}),
        ...(id === null || id === '' ? {} : {invocationId: id}),
        target: string(at(3, 'the target'), 'target'),
        arguments: array(at(4, 'the arguments'), 'arguments'),
        ...streamIds(value[5]),
      };
    }
    case MessageType.StreamInvocation: {
      const headers = readHeaders(at(1, 'headers'));
      return {
        type,
        ...(headers === undefined ? {} : {headers}),
        invocationId: string(at(2, 'the invocation id'), 'invocation id'),
        target: string(at(3, 'the target'), 'target'),
        arguments: array(at(4, 'the arguments'), 'arguments'),
        ...streamIds(value[5]),
      };
    }
    case MessageType.StreamItem:
      readHeaders(at(1, 'headers'));
      return {type, invocationId: string(at(2, 'the invocation id'), 'invocation id'), item: at(3, 'the item') ?? null};
    case MessageType.Completion: {
      readHeaders(at(1, 'headers'));
      const invocationId = string(at(2, 'the invocation id'), 'invocation id');
      const kind = at(3, 'the result kind');
      if (kind === ERROR_RESULT) return {type, invocationId, error: string(at(4, 'the error'), 'error')};
      if (kind === NON_VOID_RESULT) return {type, invocationId, result: at(4, 'the result')};
      if (kind === VOID_RESULT) return {type, invocationId};
      throw new ProtocolError(`Completion has an invalid result kind ${String(kind)}.`);
    }
    case MessageType.CancelInvocation:
      readHeaders(at(1, 'headers'));
      return {type, invocationId: string(at(2, 'the invocation id'), 'invocation id')};
    case MessageType.Ping:
      return {type};
    case MessageType.Close: {
      const error = at(1, 'the error');
      if (error !== null && typeof error !== 'string') throw new ProtocolError('Close error must be a string or nil.');
      const allowReconnect = value[2] as unknown;
      if (allowReconnect !== undefined && allowReconnect !== null && typeof allowReconnect !== 'boolean') {
        throw new ProtocolError('Close allowReconnect must be a boolean.');
      }
      return {
        type,
        ...(error === null ? {} : {error}),
        ...(typeof allowReconnect === 'boolean' ? {allowReconnect} : {}),
      };
    }
    case MessageType.Ack:
    case MessageType.Sequence: {
      const sequenceId = at(1, 'the sequence id');
      if (typeof sequenceId !== 'number' || !Number.isSafeInteger(sequenceId) || sequenceId < 0) {
        throw new ProtocolError('The sequence id must be a non-negative integer.');
      }
      return {type, sequenceId};
    }
    default:
      return undefined;
  }
}

function readHeaders(value: unknown): MessageHeaders | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ProtocolError('Headers must be a map of strings.');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.every(([, v]) => typeof v === 'string')) throw new ProtocolError('Headers must be a map of strings.');
  return entries.length === 0 ? undefined : (value as MessageHeaders);
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ProtocolError(`The ${what} must be a string.`);
  return value;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ProtocolError(`The ${what} must be an array.`);
  return value;
}

function streamIds(value: unknown): {streamIds?: string[]} {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new ProtocolError('Stream ids must be an array of strings.');
  }
  return value.length === 0 ? {} : {streamIds: value as string[]};
}
