import {newId} from '@switchboard/contracts';

/**
 * Envelope ids for one bus: a random prefix drawn once (a UUID's 122 random bits) and a counter,
 * unique across pages, tabs and servers like a UUID per event, for an increment and a short
 * concatenation. The last `window` ids minted are remembered with a number (the bus keeps causation
 * depth) in a ring indexed by the counter, so remembering one of its own ids costs no hashing: a
 * lookup recognizes the prefix and reads the slot.
 */
export class IdMaker {
  readonly #prefix = `${newId()}.`;
  #next = 0;
  readonly #values: Float64Array;

  constructor(readonly window: number) {
    this.#values = new Float64Array(Math.max(1, window));
  }

  /** A fresh id, e.g. `5b0c1f7e-8d6a-4c1b-9f43-2a7d3e9b1c55.42`, remembered with `value`. */
  mint(value: number): string {
    const n = this.#next++;
    this.#values[n % this.#values.length] = value;
    return this.#prefix + n;
  }

  /** The value minted with `id` if this maker minted it among its last `window` ids, else undefined. */
  recall(id: string): number | undefined {
    if (!id.startsWith(this.#prefix)) return undefined;
    const suffix = id.slice(this.#prefix.length);
    const n = Number(suffix);
    if (!Number.isSafeInteger(n) || n < 0 || String(n) !== suffix) return undefined;
    if (n >= this.#next || n < this.#next - this.#values.length) return undefined;
    return this.#values[n % this.#values.length];
  }
}
