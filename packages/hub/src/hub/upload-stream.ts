/**
 * A client-to-server stream as the hub method sees it: an async iterable of the items the client
 * sends. Bounded: when `capacity` items wait unread, `push` returns a promise that resolves once the
 * method reads on, and the hub reads nothing more from that connection until then (ASP.NET's
 * backpressure, stream buffer capacity 10 by default).
 */
export class UploadStream<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #done = false;
  #error: Error | undefined;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds an item; the promise is pending while the buffer is full. */
  push(item: T): Promise<void> | undefined {
    if (this.#done) return undefined;
    this.#items.push(item);
    this.#wake();
    if (this.#items.length < this.#capacity) return undefined;
    return new Promise((resolve) => (this.#wakeWriter = resolve));
  }

  /** Ends the stream, with an error if the client sent one. */
  complete(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#wake();
    this.#wakeWriter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        if (this.#items.length < this.#capacity) {
          const wake = this.#wakeWriter;
          this.#wakeWriter = undefined;
          wake?.();
        }
        yield item;
        continue;
      }
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
    }
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }
}
