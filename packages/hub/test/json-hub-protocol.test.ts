import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {hubMessage} from './arbitraries.js';
import {jsonHubProtocol, MessageType, parseHandshake, ProtocolError} from '../src/protocol/index.js';

const RS = '\u001e';
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** JSON-safe values: what hub arguments and results can be. */
const json = fc.jsonValue({maxDepth: 3}).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

/** Every message type the JSON protocol carries, with arbitrary contents. */
const message = hubMessage(json);

describe('the JSON hub protocol', () => {
  it('reads back every message it writes (property, 2,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(message, {minLength: 1, maxLength: 5}), (messages) => {
        const wire = messages.map((m) => decode(jsonHubProtocol.writeMessage(m))).join('');
        expect(jsonHubProtocol.parseMessages(wire)).toEqual(messages);
      }),
      {numRuns: 2000},
    );
  });

  it('writes an invocation with arguments given as JSON text byte for byte as writeMessage does (property, 1,000 cases)', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.jsonValue()), (target, args) => {
        const written = jsonHubProtocol.writeInvocationJson!(target, JSON.stringify(args));
        expect(Buffer.from(written).equals(Buffer.from(jsonHubProtocol.writeMessage({type: MessageType.Invocation, target, arguments: args})))).toBe(true);
      }),
      {numRuns: 1000},
    );
  });

  it('either parses or throws ProtocolError on arbitrary input, never anything else (property, 5,000 cases)', () => {
    const input = fc.oneof(
      fc.string(),
      fc.string().map((s) => s + RS),
      fc.uint8Array({maxLength: 64}),
      fc.jsonValue().map((v) => JSON.stringify(v) + RS),
      message.chain((m) => fc.nat({max: 40}).map((cut) => decode(jsonHubProtocol.writeMessage(m)).slice(0, cut))),
    );
    fc.assert(
      fc.property(input, (data) => {
        try {
          const parsed = jsonHubProtocol.parseMessages(data);
          for (const m of parsed) expect(typeof m.type).toBe('number');
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      {numRuns: 5000},
    );
  });

  it('writes records the official client expects', () => {
    expect(decode(jsonHubProtocol.writeMessage({type: MessageType.Completion, invocationId: '1', result: undefined}))).toBe(
      `{"type":3,"invocationId":"1","result":null}${RS}`,
    );
    expect(decode(jsonHubProtocol.writeMessage({type: MessageType.Ping}))).toBe(`{"type":6}${RS}`);
    expect(
      decode(jsonHubProtocol.writeMessage({type: MessageType.Invocation, target: 'event', arguments: [1], headers: {a: 'b'}})),
    ).toBe(`{"type":1,"target":"event","arguments":[1]}${RS}`);
  });

  it('skips messages of unknown types and keeps those around them', () => {
    expect(jsonHubProtocol.parseMessages(`{"type":6}${RS}{"type":42}${RS}{"type":6}${RS}`)).toEqual([
      {type: MessageType.Ping},
      {type: MessageType.Ping},
    ]);
  });

  it.each([
    ['no separator', '{"type":6}', 'Message is incomplete'],
    ['not JSON', `{${RS}`, 'not valid JSON'],
    ['not an object', `[1]${RS}`, 'must be a JSON object'],
    ['no type', `{}${RS}`, 'missing "type"'],
    ['invocation without arguments', `{"type":1,"target":"x"}${RS}`, '"arguments"'],
    ['completion with error and result', `{"type":3,"invocationId":"1","error":"e","result":1}${RS}`, 'both'],
    ['negative sequence id', `{"type":8,"sequenceId":-1}${RS}`, 'sequenceId'],
  ])('refuses %s', (_name, input, message) => {
    expect(() => jsonHubProtocol.parseMessages(input)).toThrow(message);
  });
});

describe('the handshake', () => {
  it('parses the request and returns what followed it', () => {
    expect(parseHandshake(`{"protocol":"json","version":1}${RS}{"type":6}${RS}`)).toEqual({
      request: {protocol: 'json', version: 1},
      rest: `{"type":6}${RS}`,
    });
    const bytes = new TextEncoder().encode(`{"protocol":"messagepack","version":1}${RS}`);
    expect(parseHandshake(new Uint8Array([...bytes, 1, 2]))).toEqual({
      request: {protocol: 'messagepack', version: 1},
      rest: new Uint8Array([1, 2]),
    });
  });
});
