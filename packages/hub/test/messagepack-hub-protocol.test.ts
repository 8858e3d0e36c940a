import {encode} from '@msgpack/msgpack';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {hubMessage} from './arbitraries.js';
import {MessageType, messagePackHubProtocol, ProtocolError, writeLengthPrefixed, type HubMessage} from '../src/protocol/index.js';

/**
 * Values MessagePack carries unchanged: JSON values, without `__proto__` keys, which the decoder
 * refuses (a prototype-pollution guard; see the case below).
 */
const value = fc
  .jsonValue({maxDepth: 3})
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));

const message = hubMessage(value);

/** MessagePack turns a null item into null, as JSON does; compare modulo that. */
function normalized(m: HubMessage): HubMessage {
  return m.type === MessageType.StreamItem ? {...m, item: m.item ?? null} : m;
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

describe('the MessagePack hub protocol', () => {
  it('reads back every message it writes, several per transport message (property, 2,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(message, {minLength: 1, maxLength: 5}), (messages) => {
        const wire = concat(messages.map((m) => messagePackHubProtocol.writeMessage(m)));
        expect(messagePackHubProtocol.parseMessages(wire)).toEqual(messages.map(normalized));
      }),
      {numRuns: 2000},
    );
  });

  it('either parses or throws ProtocolError on arbitrary bytes, never anything else (property, 5,000 cases)', () => {
    const input = fc.oneof(
      fc.uint8Array({maxLength: 80}),
      fc.uint8Array({maxLength: 60}).map((b) => writeLengthPrefixed(b)),
      fc.jsonValue().map((v) => writeLengthPrefixed(encode(v))),
      message.chain((m) => {
        const bytes = messagePackHubProtocol.writeMessage(m);
        return fc.nat({max: bytes.byteLength}).map((cut) => bytes.subarray(0, cut));
      }),
    );
    fc.assert(
      fc.property(input, (data) => {
        try {
          messagePackHubProtocol.parseMessages(data);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      {numRuns: 5000},
    );
  });

  it('writes the arrays the official client reads', () => {
    const decode = (m: HubMessage): unknown[] => {
      const bytes = messagePackHubProtocol.writeMessage(m);
      return [...bytes];
    };
    // [3, {}, "1", 3, 42] behind its one-byte length prefix.
    expect(decode({type: MessageType.Completion, invocationId: '1', result: 42})).toEqual([7, 0x95, 3, 0x80, 0xa1, 0x31, 3, 42]);
    // Close with no error: [7, nil].
    expect(decode({type: MessageType.Close})).toEqual([3, 0x92, 7, 0xc0]);
  });

  it.each([
    ['text input', '{"type":1}', 'binary messages'],
    ['a truncated length prefix', new Uint8Array([0x80]), 'truncated length prefix'],
    ['a body shorter than its prefix', new Uint8Array([10, 0x91, 6]), 'shorter than its length prefix'],
    ['a prefix over 2 GB', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]), 'length prefix is invalid'],
    ['a non-array message', writeLengthPrefixed(encode({type: 1})), 'must be a MessagePack array'],
    ['an invocation without target', writeLengthPrefixed(encode([1, {}, null])), 'missing the target'],
    ['bad headers', writeLengthPrefixed(encode([1, {a: 1}, null, 't', []])), 'Headers'],
    ['an unknown result kind', writeLengthPrefixed(encode([3, {}, '1', 9])), 'invalid result kind'],
    ['a __proto__ key (prototype pollution)', writeLengthPrefixed(encode([1, {}, null, 't', [JSON.parse('{"__proto__": {"admin": true}}')]])), '__proto__'],
  ])('refuses %s', (_name, input, message) => {
    expect(() => messagePackHubProtocol.parseMessages(input)).toThrow(message);
  });

  it('skips unknown message types', () => {
    const wire = concat([writeLengthPrefixed(encode([99, 'future'])), messagePackHubProtocol.writeMessage({type: MessageType.Ping})]);
    expect(messagePackHubProtocol.parseMessages(wire)).toEqual([{type: MessageType.Ping}]);
  });
});
