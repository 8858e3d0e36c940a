/**
 * Counts of event types over the last `windowMs`: a stateful consumer's memory. Timestamps older
 * than the window fall out as time moves on.
 */
export class SlidingWindow {
  readonly #times = new Map<string, number[]>();
  constructor(readonly windowMs: number) {}

  /** Counts one event of `type` at `now`; returns how many of that type are in the window. */
  add(type: string, now: number): number {
    const times = this.#times.get(type) ?? [];
    times.push(now);
    this.#times.set(type, times);
    return this.count(type, now);
  }

  /** Events of `type` in the window ending at `now`. */
  count(type: string, now: number): number {
    const times = this.#times.get(type);
    if (times === undefined) return 0;
    while (times.length > 0 && times[0]! <= now - this.windowMs) times.shift();
    return times.length;
  }

  /** Every type with events in the window, most frequent first. */
  counts(now: number): Array<[string, number]> {
    return [...this.#times.keys()].map((t): [string, number] => [t, this.count(t, now)]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  }
}
