import type {Envelope} from '@switchboard/contracts';
import {RequestTimeoutError} from './errors.js';

/** Answers a request (or handles a command): its return value, or what its promise resolves to, is the answer. */
export type Responder = (envelope: Envelope) => unknown;

/** The responders of each request type, copy-on-write like subscriptions. */
export class Responders {
  readonly #byType = new Map<string, readonly Responder[]>();

  /** How many responders are registered, over all types. */
  get count(): number {
    let n = 0;
    for (const list of this.#byType.values()) n += list.length;
    return n;
  }

  /** The responders of `type` (none: an empty list). */
  of(type: string): readonly Responder[] {
    return this.#byType.get(type) ?? [];
  }

  /** Adds a responder of `type`; returns a function that removes it. */
  add(type: string, responder: Responder): () => void {
    this.#byType.set(type, [...this.of(type), responder]);
    return () => {
      const left = this.of(type).filter((x) => x !== responder);
      if (left.length === 0) this.#byType.delete(type);
      else this.#byType.set(type, left);
    };
  }
}

/**
 * Runs `respond` in a later microtask and settles with its answer, or rejects with
 * {@link RequestTimeoutError} after `timeoutMs`, or with the signal's reason when aborted; whichever
 * comes first wins and the rest is ignored.
 */
export function awaitAnswer<R>(respond: () => unknown, type: string, timeoutMs: number, signal: AbortSignal | undefined, pending?: {count: number}): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    if (pending !== undefined) pending.count++;
    const timer = setTimeout(() => finish(() => reject(new RequestTimeoutError(`"${type}" got no answer within ${timeoutMs} ms`))), timeoutMs);
    const onAbort = (): void => finish(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, {once: true});
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      if (pending !== undefined) pending.count--;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    Promise.resolve()
      .then(respond)
      .then(
        (answer) => finish(() => resolve(answer as R)),
        (error: unknown) => finish(() => reject(error)),
      );
  });
}
