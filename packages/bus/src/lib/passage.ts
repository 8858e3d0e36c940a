import type {Envelope} from '@switchboard/contracts';
import type {Subscription} from './subscriptions.js';
import type {TraceRecord} from './trace.js';

/**
 * An event's passage as the bus records it while delivering: the subscriber lists it was offered to
 * (immutable snapshots, so keeping them costs nothing) and who threw. Turned into a
 * {@link TraceRecord} only when someone inspects it.
 */
export interface Passage extends Omit<TraceRecord, 'handlers' | 'ms'> {
  /** The exact-type list it was offered to, then wildcard lists (rare, so allocated only then). */
  exact: readonly Subscription[] | undefined;
  wild: Array<readonly Subscription[]> | undefined;
  threw: Subscription[] | undefined;
  ms: number;
}

/** A passage as inspection shows it: its subscribers by name, each with whether it threw. */
export function toRecord(p: Passage): TraceRecord {
  const lists = p.exact === undefined ? (p.wild ?? []) : [p.exact, ...(p.wild ?? [])];
  const handlers = lists.flatMap((list) => list.map((s) => ({subscriber: s.name, ok: p.threw?.includes(s) !== true})));
  const {exact: _exact, wild: _wild, threw: _threw, ...rest} = p;
  return {...rest, handlers};
}

/** Whether `value` has the shape of an envelope (enough to show it in a trace). */
export function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && 'id' in value && 'type' in value && 'data' in value;
}

/** The `type` of an input, or `unknown`. */
export function typeOf(input: unknown): string {
  const type = (input as {type?: unknown} | null)?.type;
  return typeof type === 'string' ? type : 'unknown';
}
