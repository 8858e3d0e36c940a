/** What the RabbitMQ benchmark's processes share: the exchange, the topic and the event they carry. */
import {randomUUID} from 'node:crypto';
import {defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

/** The topic exchange every path takes its messages from. */
export const EXCHANGE = 'bench';
/** The hub topic the Switchboard path appends to. */
export const TOPIC = 'bench';

/** The benchmark's event: a sequence number (to count losses) and the publish time (epoch ms). */
export const BenchTick = defineEvent({
  type: 'bench.tick',
  description: 'A benchmark message.',
  schema: z.object({seq: z.number().int().min(0), sentAt: z.number(), note: z.string().max(200)}),
});

/** A ~300-byte envelope of `seq`, stamped now: the body every path gets, byte for byte. */
export function tick(seq: number): Buffer {
  const id = randomUUID();
  const envelope = {
    id,
    type: 'bench.tick',
    version: 1,
    time: new Date().toISOString(),
    source: 'service:bench',
    correlationId: id,
    data: {seq, sentAt: performance.timeOrigin + performance.now(), note: 'order o-42: 2 x tea-sencha'},
  };
  return Buffer.from(JSON.stringify(envelope));
}
