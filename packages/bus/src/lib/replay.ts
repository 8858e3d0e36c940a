import type {Envelope, ReplayPolicy} from '@switchboard/contracts';

interface Kept {
  readonly envelope: Envelope;
  readonly at: number;
  readonly seq: number;
}

/** A replay policy in one shape: how many to keep, for how long. */
export interface Retention {
  readonly last: number;
  readonly ttlMs: number;
}

/** Normalizes a contract's replay policy; undefined for none. */
export function retention(policy: ReplayPolicy | undefined): Retention | undefined {
  if (policy === undefined || policy === 'none') return undefined;
  if (policy === 'last') return {last: 1, ttlMs: Number.POSITIVE_INFINITY};
  if (policy.last < 1) return undefined;
  return {last: policy.last, ttlMs: policy.ttlMs ?? Number.POSITIVE_INFINITY};
}

/** What the bus keeps per type for late subscribers, in publish order across types. */
export class ReplayStore {
  readonly #byType = new Map<string, Kept[]>();
  #seq = 0;
  constructor(readonly now: () => number = () => Date.now()) {}

  keep(envelope: Envelope, policy: Retention): void {
    let kept = this.#byType.get(envelope.type);
    if (kept === undefined) this.#byType.set(envelope.type, (kept = []));
    kept.push({envelope, at: this.now(), seq: this.#seq++});
    if (kept.length > policy.last) kept.splice(0, kept.length - policy.last);
  }

  /** Retained events of the types `matches` accepts that are still fresh, oldest first. */
  retained(matches: (type: string) => boolean, ttlOf: (type: string) => number): Envelope[] {
    const now = this.now();
    const out: Kept[] = [];
    for (const [type, kept] of this.#byType) {
      if (!matches(type)) continue;
      const ttl = ttlOf(type);
      for (const k of kept) if (now - k.at <= ttl) out.push(k);
    }
    return out.sort((a, b) => a.seq - b.seq).map((k) => k.envelope);
  }
}
