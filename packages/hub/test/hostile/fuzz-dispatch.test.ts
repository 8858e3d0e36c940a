import fc from 'fast-check';
import {pino} from 'pino';
import {describe, expect, it} from 'vitest';
import {z} from 'zod';
import {Hub, jsonHubProtocol, MessageType, messagePackHubProtocol, type HubProtocol} from '../../src/index.js';
import type {TransportConnection} from '../../src/transports/transport-connection.js';
import {hubMessage} from '../arbitraries.js';

/**
 * Property-based fuzzing of dispatch: arbitrary transport messages (valid hub messages of every
 * type, garbage, too many messages, too deep nesting) fed to a hub after a handshake. Receiving
 * never throws, the connection is either still open or was closed with a Close message, and the
 * hub keeps serving a new connection afterwards.
 */
const RS = '\u001e';
const MAX_MESSAGES = 50;
const MAX_DEPTH = 12;

/** A transport that records what the hub sends. */
function transport(id: string): TransportConnection & {sent: Uint8Array[]; closed: boolean} {
  const t = {
    connectionId: id,
    transport: 'WebSockets' as const,
    request: {url: new URL('http://localhost/hubs/events'), headers: {}, remoteAddress: undefined, principal: undefined},
    inherentKeepAlive: false,
    supportsReconnect: false,
    enableReconnect: () => {},
    sent: [] as Uint8Array[],
    closed: false,
    send: (payload: Uint8Array) => void t.sent.push(payload),
    close: () => void (t.closed = true),
    abort: () => void (t.closed = true),
  };
  return t;
}

function fuzzedHub(): Hub {
  const hub = new Hub({logger: pino({level: 'silent'}), maximumMessagesPerTransportMessage: MAX_MESSAGES, maximumNestingDepth: MAX_DEPTH, receiveQueue: {pauseBytes: 2048, maxBytes: 16 * 1024}});
  hub.method('echo', {params: {value: z.unknown()}, handler: ({value}) => value});
  hub.method('wait', {params: {}, handler: () => new Promise((resolve) => setTimeout(resolve, 1))});
  hub.stream('count', {params: {n: z.number().int().min(0).max(5)}, handler: function* ({n}) {
    for (let i = 0; i < n; i++) yield i;
  }});
  return hub;
}

/** Values a hub message may carry, nesting past the limit at times. */
const value = fc.oneof(
  fc.jsonValue({maxDepth: 4}).map((v) => JSON.parse(JSON.stringify(v)) as unknown),
  fc.integer({min: 1, max: MAX_DEPTH + 4}).map((depth) => {
    let v: unknown = [];
    for (let i = 1; i < depth; i++) v = [v];
    return v;
  }),
).filter((v) => !JSON.stringify(v).includes('"__proto__"'));
/** Every message a client may send, but Close (which ends the connection without a Close back). */
const message = fc.oneof(
  hubMessage(value).filter((m) => m.type !== MessageType.Close),
  fc.record({type: fc.constant(MessageType.Invocation), invocationId: fc.string({maxLength: 4}), target: fc.constantFrom('echo', 'wait', 'count', 'ECHO', 'nope'), arguments: fc.array(value, {maxLength: 2})}),
  fc.record({type: fc.constant(MessageType.StreamInvocation), invocationId: fc.string({maxLength: 4}), target: fc.constantFrom('count', 'echo'), arguments: fc.array(fc.integer({min: -1, max: 6}), {maxLength: 2})}),
);

/** One transport message: several hub messages (maybe past the limit), or garbage. */
function frames(protocol: HubProtocol): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    {weight: 4, arbitrary: fc.array(message, {minLength: 1, maxLength: MAX_MESSAGES + 3}).map((ms) => Buffer.concat(ms.map((m) => protocol.writeMessage(m))))},
    {weight: 1, arbitrary: fc.uint8Array({minLength: 1, maxLength: 64})},
    {weight: 1, arbitrary: fc.constant(Buffer.concat(Array.from({length: MAX_MESSAGES}, () => protocol.writeMessage({type: MessageType.Ping}))))},
  );
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('fuzz: dispatch of arbitrary transport messages', () => {
  for (const protocol of [jsonHubProtocol, messagePackHubProtocol]) {
    it(`${protocol.name}: receive never throws; the connection stays open or is closed with a Close message; the hub serves on (property, 150 cases)`, async () => {
      const hub = fuzzedHub();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(frames(protocol), {minLength: 1, maxLength: 6}), async (input) => {
          const t = transport(`c${n++}`);
          const sink = hub.connect(t);
          sink.receive(`{"protocol":"${protocol.name}","version":1}${RS}`);
          for (const frame of input) {
            const data = protocol.transferFormat === 'Text' ? Buffer.from(frame).toString() : frame;
            expect(() => sink.receive(data)).not.toThrow();
          }
          await settle();
          const messages = t.sent.slice(1).flatMap((bytes) => protocol.parseMessages(protocol.transferFormat === 'Text' ? Buffer.from(bytes).toString() : bytes));
          if (t.closed) expect(messages.some((m) => m.type === MessageType.Close)).toBe(true);
          sink.closed();
        }),
        {numRuns: 150},
      );
      // Whatever came before, a new connection is served.
      const t = transport('after');
      const sink = hub.connect(t);
      sink.receive(`{"protocol":"json","version":1}${RS}{"type":1,"invocationId":"1","target":"echo","arguments":[[1,[2]]]}${RS}`);
      await settle();
      expect(Buffer.from(t.sent.at(-1)!).toString()).toBe(`{"type":3,"invocationId":"1","result":[1,[2]]}${RS}`);
      hub.close();
    }, 60_000);
  }
});
