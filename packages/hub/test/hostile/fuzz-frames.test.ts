import {encode} from '@msgpack/msgpack';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {
  jsonHubProtocol,
  messagePackHubProtocol,
  MessageType,
  NestingTooDeepError,
  parseHandshake,
  ProtocolError,
  TooManyMessagesError,
  writeLengthPrefixed,
  type HubProtocol,
  type ParseOptions,
} from '../../src/protocol/index.js';

/**
 * Property-based fuzzing of the frame parsers at and past their limits: message counts per
 * transport message and nesting depth. Whatever the input, a parser returns messages or throws a
 * ProtocolError (the documented error value), never a RangeError from the stack or anything else.
 */
const RS = '\u001e';
const MAX_MESSAGES = 200;
const MAX_DEPTH = 16;
const limits: ParseOptions = {maxMessages: MAX_MESSAGES, maxDepth: MAX_DEPTH, maxMessageSize: 32 * 1024};

/** A value nested `depth` levels deep (arrays and objects alternating), 1 being a flat array. */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = level % 2 === 0 ? [value] : {k: value};
  return value;
}

const ping = {json: `{"type":6}${RS}`, msgpack: writeLengthPrefixed(encode([MessageType.Ping]))};

/** A JSON transport message of `count` pings. */
const jsonPings = (count: number): string => ping.json.repeat(count);
/** A MessagePack transport message of `count` pings. */
const msgpackPings = (count: number): Uint8Array => Buffer.concat(Array.from({length: count}, () => ping.msgpack));

/** An invocation carrying one argument nested `depth` levels (the message is level 1, `arguments` level 2). */
const invocation = (depth: number) => ({type: MessageType.Invocation, target: 't', arguments: [nested(depth)]});

/** Parses, and says what happened: the messages' count, or the error's class. */
function outcome(protocol: HubProtocol, input: string | Uint8Array, options: ParseOptions = limits): number | string {
  try {
    return protocol.parseMessages(input, options).length;
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as Error).constructor.name;
  }
}

describe('fuzz: the frame parsers at and past their limits', () => {
  it('JSON: any number of messages around the limit is read whole up to it and refused past it (property, 300 cases)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: MAX_MESSAGES * 2}), fc.constantFrom(0, 1, 2), (count, garbage) => {
        // Garbage after the pings is only reached when the count is within the limit.
        const input = jsonPings(count) + ['', `{${RS}`, `[1]${RS}`][garbage];
        const result = outcome(jsonHubProtocol, input);
        if (count > MAX_MESSAGES) expect(result).toBe(TooManyMessagesError.name);
        else if (garbage === 0) expect(result).toBe(count);
        else if (count === MAX_MESSAGES) expect(result).toBe(TooManyMessagesError.name);
        else expect(result).toBe(ProtocolError.name);
      }),
      {numRuns: 300},
    );
  });

  it('MessagePack: the same at and past the message limit (property, 300 cases)', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: MAX_MESSAGES * 2}), (count) => {
        const result = outcome(messagePackHubProtocol, msgpackPings(count));
        expect(result).toBe(count > MAX_MESSAGES ? TooManyMessagesError.name : count);
      }),
      {numRuns: 300},
    );
  });

  it('both protocols take nesting up to the limit and refuse it one level past, with NestingTooDeepError (property, 200 cases)', () => {
    fc.assert(
      fc.property(fc.integer({min: 2, max: MAX_DEPTH * 3}), fc.boolean(), (argumentDepth, binary) => {
        // The message is level 1 and its arguments array level 2: the argument starts at level 3.
        const total = argumentDepth + 2;
        const protocol = binary ? messagePackHubProtocol : jsonHubProtocol;
        const input = binary ? writeLengthPrefixed(encode(invocationArray(argumentDepth))) : `${JSON.stringify(invocation(argumentDepth))}${RS}`;
        expect(outcome(protocol, input)).toBe(total > MAX_DEPTH ? NestingTooDeepError.name : 1);
      }),
      {numRuns: 200},
    );
  });

  it('never exceeds the stack: 340,000 messages in one transport message, and nesting 200,000 levels deep', () => {
    const unlimited: ParseOptions = {};
    expect(outcome(messagePackHubProtocol, msgpackPings(340_000), unlimited)).toBe(340_000);
    expect(outcome(jsonHubProtocol, jsonPings(100_000), unlimited)).toBe(100_000);
    const deep = 200_000;
    const deepJson = `{"type":1,"target":"t","arguments":[${'['.repeat(deep)}${']'.repeat(deep)}]}${RS}`;
    expect(outcome(jsonHubProtocol, deepJson, {maxDepth: 64})).toBe(NestingTooDeepError.name);
    const deepPack = Buffer.alloc(deep + 1, 0x91);
    deepPack[deep] = 0x90;
    // A five-field Invocation whose arguments are the deep array.
    const head = Buffer.concat([Buffer.from([0x95]), ...[MessageType.Invocation, {}, null, 't'].map((v) => Buffer.from(encode(v)))]);
    const framedDeep = writeLengthPrefixed(Buffer.concat([head, deepPack]));
    expect(outcome(messagePackHubProtocol, framedDeep, {maxDepth: 64})).toBe(NestingTooDeepError.name);
  });

  it('reads lazily: the first message of a transport message costs one message, not the whole of it', () => {
    // A broken last record is only met when the reader gets there.
    const reader = jsonHubProtocol.readMessages(`${jsonPings(50_000)}{${RS}`, {})[Symbol.iterator]();
    expect(reader.next().value).toEqual({message: {type: MessageType.Ping}, size: ping.json.length});
    const bytes = messagePackHubProtocol.readMessages(Buffer.concat([msgpackPings(50_000), Buffer.from([0x05, 0xc1])]), {})[Symbol.iterator]();
    expect(bytes.next().value).toEqual({message: {type: MessageType.Ping}, size: 3});
    let read = 1;
    expect(() => {
      while (!bytes.next().done) read++;
    }).toThrow(ProtocolError);
    expect(read).toBe(50_000);
  });

  it('either parses or throws ProtocolError on arbitrary frames of arbitrary records, with limits (property, 1,000 cases)', () => {
    const record = fc.oneof(
      fc.constant('{"type":6}'),
      fc.jsonValue({maxDepth: 8}).map((v) => JSON.stringify(v)),
      fc.string(),
      fc.integer({min: 1, max: 40}).map((d) => JSON.stringify(invocation(d))),
    );
    const text = fc.array(record, {maxLength: MAX_MESSAGES + 5}).map((records) => records.map((r) => r + RS).join(''));
    const bytes = fc.oneof(
      fc.uint8Array({maxLength: 256}),
      fc.array(fc.jsonValue({maxDepth: 8}), {maxLength: MAX_MESSAGES + 5}).map((values) => Buffer.concat(values.map((v) => writeLengthPrefixed(encode(v))))),
    );
    fc.assert(
      fc.property(fc.oneof(text, bytes), (input) => {
        outcome(jsonHubProtocol, input);
        outcome(messagePackHubProtocol, input);
      }),
      {numRuns: 1000},
    );
  });

  it('the handshake parses or throws ProtocolError on arbitrary and deeply nested input (property, 500 cases)', () => {
    const input = fc.oneof(
      fc.string(),
      fc.uint8Array({maxLength: 128}),
      fc.jsonValue({maxDepth: 10}).map((v) => `${JSON.stringify(v)}${RS}`),
      fc.integer({min: 1, max: 20_000}).map((d) => `{"protocol":"json","version":1,"x":${'['.repeat(d)}${']'.repeat(d)}}${RS}`),
    );
    fc.assert(
      fc.property(input, (data) => {
        try {
          const {request} = parseHandshake(data);
          expect(typeof request.protocol).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      {numRuns: 500},
    );
  });
});

/** An Invocation as the MessagePack protocol's array, its argument nested `depth` levels. */
function invocationArray(depth: number): unknown[] {
  return [MessageType.Invocation, {}, null, 't', [nested(depth)]];
}
