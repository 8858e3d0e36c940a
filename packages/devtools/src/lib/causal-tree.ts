import type {Envelope} from '@switchboard/contracts';

/** One event and the events it caused. */
export interface CausalNode {
  readonly event: Envelope;
  readonly children: readonly CausalNode[];
}

/**
 * The events of one flow as a forest by causationId: roots are events whose cause is not among
 * them (the click, or a command sent from elsewhere); children keep arrival order.
 */
export function causalTree(events: readonly Envelope[]): CausalNode[] {
  const ids = new Set(events.map((e) => e.id));
  const children = new Map<string, Envelope[]>();
  const roots: Envelope[] = [];
  for (const e of events) {
    if (e.causationId !== undefined && ids.has(e.causationId) && e.causationId !== e.id) {
      children.set(e.causationId, [...(children.get(e.causationId) ?? []), e]);
    } else roots.push(e);
  }
  const build = (e: Envelope, seen: Set<string>): CausalNode => {
    seen.add(e.id);
    return {event: e, children: (children.get(e.id) ?? []).filter((c) => !seen.has(c.id)).map((c) => build(c, seen))};
  };
  const seen = new Set<string>();
  return roots.map((r) => build(r, seen));
}
