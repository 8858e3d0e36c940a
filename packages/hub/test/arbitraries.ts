import fc from 'fast-check';
import {MessageType, type HubMessage} from '../src/protocol/index.js';

/** Short non-empty strings, for ids and targets. */
export const id = fc.string({minLength: 1, maxLength: 12});

/** Every hub message type, with arbitrary contents whose values come from `value`. */
export function hubMessage(value: fc.Arbitrary<unknown>): fc.Arbitrary<HubMessage> {
  return fc.oneof(
    fc.record(
      {type: fc.constant(MessageType.Invocation), invocationId: id, target: id, arguments: fc.array(value, {maxLength: 4}), streamIds: fc.array(id, {minLength: 1, maxLength: 2})},
      {requiredKeys: ['type', 'target', 'arguments']},
    ),
    fc.record({type: fc.constant(MessageType.StreamInvocation), invocationId: id, target: id, arguments: fc.array(value, {maxLength: 4})}),
    fc.record({type: fc.constant(MessageType.StreamItem), invocationId: id, item: value}),
    fc.record({type: fc.constant(MessageType.Completion), invocationId: id, result: value}),
    fc.record({type: fc.constant(MessageType.Completion), invocationId: id, error: fc.string()}),
    fc.record({type: fc.constant(MessageType.Completion), invocationId: id}),
    fc.record({type: fc.constant(MessageType.CancelInvocation), invocationId: id}),
    fc.constant({type: MessageType.Ping}),
    fc.record({type: fc.constant(MessageType.Close), error: fc.string(), allowReconnect: fc.boolean()}, {requiredKeys: ['type']}),
    fc.record({type: fc.constant(MessageType.Ack), sequenceId: fc.nat()}),
    fc.record({type: fc.constant(MessageType.Sequence), sequenceId: fc.nat()}),
  ) as fc.Arbitrary<HubMessage>;
}
