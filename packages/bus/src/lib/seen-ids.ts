/**
 * The last `capacity` ids seen, each with a number (the bus keeps causation depth): a Map for
 * lookups and a ring of the same ids in arrival order, so evicting the oldest is one slot overwrite.
 * (Deleting a Map's first key instead leaves V8 to skip every earlier deletion on the next `keys()`.)
 * One bounded set, used for dedupe wherever envelopes arrive more than once (the bus, cross-tab
 * sharing, the hub bridge, projections).
 *
 * ```ts
 * const seen = new SeenIds(1000);
 * if (!seen.has(envelope.id)) seen.add(envelope.id), handle(envelope);
 * ```
 */
export class SeenIds {
  readonly #values = new Map<string, number>();
  readonly #order: Array<string | undefined>;
  #next = 0;

  constructor(readonly capacity: number) {
    this.#order = new Array<string | undefined>(Math.max(1, capacity));
  }

  /** Whether `id` is still in the window. */
  has(id: string): boolean {
    return this.#values.has(id);
  }

  /** The number remembered with `id`, if it is still in the window. */
  get(id: string): number | undefined {
    return this.#values.get(id);
  }

  /** Remembers `id` (with `value`), forgetting the oldest id once full. */
  add(id: string, value = 0): void {
    const order = this.#order;
    const evicted = order[this.#next];
    if (evicted !== undefined) this.#values.delete(evicted);
    order[this.#next] = id;
    this.#next = this.#next + 1 === order.length ? 0 : this.#next + 1;
    this.#values.set(id, value);
  }

  /** How many ids are remembered now (at most `capacity`). */
  get size(): number {
    return this.#values.size;
  }

  /** Forgets every id. */
  clear(): void {
    this.#values.clear();
    this.#order.fill(undefined);
    this.#next = 0;
  }
}
