import {describe, expect, it} from 'vitest';
import {queueArguments, RABBIT_DEFAULTS, type QueueType} from '@switchboard/rabbitmq';

describe('queueArguments', () => {
  it('declares quorum queues by default and classic ones on request, with a single active consumer when asked', () => {
    expect(RABBIT_DEFAULTS.queueType).toBe('quorum');
    expect(queueArguments('quorum')).toEqual({'x-queue-type': 'quorum'});
    expect(queueArguments('classic', true)).toEqual({'x-queue-type': 'classic', 'x-single-active-consumer': true});
  });

  it('refuses another type with a message naming the two', () => {
    expect(() => queueArguments('stream' as QueueType)).toThrow('"stream" is not a queue type: use "quorum" or "classic".');
  });
});
