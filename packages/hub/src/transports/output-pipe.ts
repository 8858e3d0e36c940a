/**
 * Output pipes: how a connection's outgoing messages reach its socket.
 *
 * Each connection queues what the hub sends it (its pipe) and asks the process's one {@link Flusher}
 * to write the queue out. The flusher writes queued connections round-robin, each whole queue in
 * one write, for at most {@link FLUSH_BUDGET_MS} per turn of the event loop, then yields
 * (`setImmediate`) and carries on where it stopped.
 *
 * - Light load: the first flush runs in a microtask at the end of the turn that sent, and every
 *   queue is written in that same turn: latency is as if each send wrote at once, and the sends of
 *   one turn already share one write.
 * - A pass that starts after the flusher was idle for an interval or more gets a longer budget
 *   ({@link FLUSH_IDLE_BUDGET_MS}): a lone broadcast to a few thousand sockets goes out in one go,
 *   as a plain loop of writes would, since yielding in the middle of it measurably delays its last
 *   sockets and buys nothing when no other work is waiting.
 * - Saturation (say a broadcast to 1,000 sockets per turn): a socket's queue keeps collecting while
 *   the flusher works through the others, so one write syscall carries several messages, and the
 *   more load, the more each carries. This is what ASP.NET Core's per-connection pipes get from a
 *   flush in flight; in Node a socket write completes synchronously, so nothing is ever in flight
 *   and only the time budget lets queues collect. The budget also keeps the event loop turning
 *   (timers, reads, other connections' pings) while a large backlog drains.
 * - Busy but within budget (say one broadcast to 100 sockets per turn, turn after turn): each pass
 *   fits the budget, so nothing would collect and every message would cost each socket a syscall.
 *   A pass that took at least a fifth of {@link FLUSH_INTERVAL_MS} marks the flusher busy: the next
 *   pass starts no sooner than that interval after this one started, and the turns in between
 *   fill the queues. Each write then carries what the interval brought, however fast messages
 *   come, for at most one interval (plus a timer's granularity) of added latency, and only while
 *   flushing is that expensive; a quiet hub, or a moderate one (200 broadcasts/s to 100 sockets),
 *   still writes in the turn that sent.
 *
 * Per connection, order is kept (one FIFO queue, written whole); queued bytes count towards the
 * connection's unsent-bytes bound, and a close writes the queue before the close.
 */

/** Time the flusher spends writing per turn of the event loop before it yields. */
export const FLUSH_BUDGET_MS = 1;

/**
 * A connection's queue past this many bytes is written at once, not left for the flusher: a pipe
 * holds at most this much (WebSocket: one frame's worth), so a reading client is never cut off for
 * bytes that only waited their turn.
 */
export const PIPE_WRITE_AT_BYTES = 64 * 1024;

/** Budget of a pass that starts after the flusher was idle for {@link FLUSH_INTERVAL_MS} or more. */
export const FLUSH_IDLE_BUDGET_MS = 10;

/** Spacing of the flusher's passes while it is busy (a pass took a fifth of this or more). */
export const FLUSH_INTERVAL_MS = 1;

/** A connection's output as the flusher sees it. */
export interface PipeWriter {
  /** Writes everything queued in one write; the flusher calls this once per `schedule`. */
  flushQueued(): void;
}

/**
 * Writes queued connections out round-robin under a time budget per turn (see the module doc).
 * One is shared by every transport of the process ({@link flusher}), so the budget is the process's.
 */
export class Flusher {
  /** Writers waiting to be flushed, in order; `#head` is the next one. */
  #ring: PipeWriter[] = [];
  #head = 0;
  /** 0: nothing scheduled; 1: a microtask will run; 2: a setImmediate will run; 3: a timer will run. */
  #state: 0 | 1 | 2 | 3 = 0;
  /** When the last pass started (its first slice, if the budget split it), and whether it took long enough to space the next. */
  #lastStart = 0;
  /** When the flusher last ran out of work. */
  #lastEnd = Number.NEGATIVE_INFINITY;
  #busy = false;

  /**
   * `budgetMs`: time spent writing per turn before yielding (0 writes one queue per turn);
   * `intervalMs`: spacing of passes while busy (0: never spaced); `idleBudgetMs`: the budget of a
   * pass that starts after `intervalMs` or more of idleness.
   */
  constructor(
    readonly budgetMs: number = FLUSH_BUDGET_MS,
    readonly intervalMs: number = FLUSH_INTERVAL_MS,
    readonly idleBudgetMs: number = FLUSH_IDLE_BUDGET_MS,
  ) {}

  /** Writers queued and not yet flushed. */
  get waiting(): number {
    return this.#ring.length - this.#head;
  }

  /**
   * Queues `writer` for one `flushQueued` call. Call once per batch (when its queue goes from empty
   * to non-empty); a writer scheduled twice is flushed twice, harmlessly.
   */
  schedule(writer: PipeWriter): void {
    this.#ring.push(writer);
    if (this.#state !== 0) return;
    if (this.#busy) {
      const wait = this.#lastStart + this.intervalMs - performance.now();
      if (wait > 0) {
        this.#state = 3;
        setTimeout(this.#run, wait);
        return;
      }
    }
    this.#state = 1;
    queueMicrotask(this.#run);
  }

  readonly #run = (): void => {
    const start = performance.now();
    const fresh = this.#state !== 2;
    if (fresh) this.#lastStart = start;
    const deadline = start + (fresh && start - this.#lastEnd >= this.intervalMs ? this.idleBudgetMs : this.budgetMs);
    const ring = this.#ring;
    try {
      while (this.#head < ring.length) {
        // Advanced before the call: a writer that throws is not retried, and the rest still are.
        ring[this.#head++]!.flushQueued();
        if (performance.now() >= deadline) break;
      }
    } finally {
      this.#after(ring);
    }
  };

  #after(ring: PipeWriter[]): void {
    if (this.#head < ring.length) {
      // Budget spent: drop what was written and resume after the turn's other work (which may
      // queue more for the writers still waiting: their next write then carries it too).
      this.#ring = ring.slice(this.#head);
      this.#head = 0;
      this.#state = 2;
      setImmediate(this.#run);
      return;
    }
    this.#ring = [];
    this.#head = 0;
    this.#state = 0;
    this.#lastEnd = performance.now();
    this.#busy = this.#lastEnd - this.#lastStart >= this.intervalMs / 5;
  }
}

/** The flusher every transport of this process shares. */
export const flusher = new Flusher();
