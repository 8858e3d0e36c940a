import {z} from 'zod';
import {TYPE_PATTERN, type Contract, type DataOf, type InputOf} from './define-event.js';
import {newId} from './ids.js';

/** Longest accepted `id`, `source`, `correlationId` and `causationId`, in characters. */
const MAX_ID = 256;

/**
 * The zod schema of an envelope's metadata. `data` is left unknown here: the contract for
 * (`type`, `version`) validates it. Unknown extra fields are dropped.
 */
export const envelopeSchema = z.object({
  id: z.string().min(1).max(MAX_ID),
  type: z
    .string()
    .max(200)
    .regex(TYPE_PATTERN, 'must be a dotted name such as "order.placed"'),
  version: z.number().int().positive(),
  time: z.iso.datetime({offset: true}),
  source: z.string().min(1).max(MAX_ID),
  correlationId: z.string().min(1).max(MAX_ID),
  causationId: z.string().min(1).max(MAX_ID).optional(),
  data: z.unknown(),
});

/**
 * Every event or command that leaves its producer travels in an envelope.
 *
 * `correlationId` names the whole flow and is carried by every event caused within it (a root
 * event's correlationId is its own id); `causationId` is the id of the envelope that caused this
 * one, absent for a root.
 */
export interface Envelope<Data = unknown, Type extends string = string> {
  readonly id: string;
  readonly type: Type;
  readonly version: number;
  readonly time: string;
  readonly source: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly data: Data;
}

/** The envelope of contract `C`. */
export type EnvelopeOf<C extends Contract> = Envelope<DataOf<C>, C['type']>;

/** Who produced an envelope and which flow it belongs to. */
export interface EnvelopeOptions {
  /** The producer, e.g. `mfe:order-form` or `service:inventory`. */
  readonly source: string;
  /** The flow this envelope belongs to; defaults to the parent's, else to the new envelope's own id. */
  readonly correlationId?: string;
  /** The envelope that caused this one; defaults to the parent's id. */
  readonly causationId?: string;
  /** The envelope being handled when this one was produced: supplies correlation and causation. */
  readonly parent?: Pick<Envelope, 'id' | 'correlationId'>;
  /** Overrides the generated id (for tests and for producers that own their ids). */
  readonly id?: string;
  /** Overrides the timestamp; an ISO-8601 string. */
  readonly time?: string;
}

/**
 * Wraps `data` in a new envelope of `contract`. It does not validate: the bus does, at publish.
 *
 * ```ts
 * const placed = createEnvelope(OrderPlaced, {orderId: 'o-1', sku: 'tea', quantity: 2}, {source: 'mfe:order-form'});
 * const reserved = createEnvelope(StockReserved, {orderId: 'o-1'}, {source: 'service:inventory', parent: placed});
 * ```
 */
export function createEnvelope<C extends Contract>(
  contract: C,
  data: InputOf<C>,
  options: EnvelopeOptions,
): EnvelopeOf<C> {
  const id = options.id ?? newId();
  const parent = options.parent;
  const causationId = options.causationId ?? parent?.id;
  const envelope: {-readonly [K in keyof EnvelopeOf<C>]: EnvelopeOf<C>[K]} = {
    id,
    type: contract.type,
    version: contract.version,
    time: options.time ?? now(),
    source: options.source,
    correlationId: options.correlationId ?? parent?.correlationId ?? id,
    data: data as DataOf<C>,
  };
  if (causationId !== undefined) envelope.causationId = causationId;
  return envelope;
}

let lastMs = 0;
let lastIso = '';

/** The current time as ISO-8601, formatted once per millisecond: bursts of events share it. */
function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
