/**
 * Output pipes: how a connection's outgoing messages reach its socket.
 *
 * Each connection queues what the hub sends it (its pipe) and asks the process's one {@link Flusher}
 * to write the queue out. The flusher writes queued connections round-robin, each whole queue in
 * one write, for at most {@link FLUSH_BUDGET_MS} per turn of the event loop, then yields
 * (`setImmediate`) and carries on where it stopped.
 *
 * - Light load: a send to a connection with nothing queued, while the flusher has been idle for an
 *   interval or more, is written at once ({@link Flusher.writeThrough}), for up to the idle budget
 *   of the turn: a broadcast's first sockets are written while the loop is still reaching its last
 *   ones, as a plain loop of writes would (queueing all of them first delayed every socket by the
 *   time the loop took: ~0.75 ms at 1,000 sockets). A connection writes through once per turn; its
 *   next sends in the turn queue, and the flush at the end of the turn writes them in one write.
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

/**
 * Budget of a pass (or a turn's write-through) that starts after the flusher was idle for
 * {@link FLUSH_INTERVAL_MS} or more: a lone broadcast to ~2,000 sockets (2-core machine) goes out in
 * one go, as a plain loop of writes would; yielding mid-broadcast put each yield's turn into the
 * last sockets' latency (bench:broadcast's p99 at 1,000 clients, with a 10 ms budget). A larger
 * broadcast still yields, so timers, reads and pings are not held for longer than this.
 */
export const FLUSH_IDLE_BUDGET_MS = 25;

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
  /** The write-through window of this turn: open, until when, and its number (see writeThrough). */
  #throughOpen = false;
  #throughUntil = 0;
  #throughEpoch = 0;

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
    if (this.#throughOpen && performance.now() >= this.#throughUntil) {
      // The turn's write-through spent the idle budget: the rest goes out as the continuation of
      // that pass, after the turn's other work, with the normal budget.
      this.#state = 2;
      setImmediate(this.#run);
      return;
    }
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

  /**
   * Whether a writer with nothing queued may write its message now rather than queue it: while
   * nothing is queued and the flusher has been idle for an interval or more, the turn's sends write
   * at once until the idle budget is spent. `last` is the number this returned to the writer the
   * last time; a writer writes through once per turn, so its later sends in the turn coalesce in
   * the end-of-turn flush. Returns the turn's number (pass it next time) or 0: queue and schedule.
   */
  writeThrough(last: number): number {
    if (this.#state !== 0) return 0;
    const now = performance.now();
    if (!this.#throughOpen) {
      if (now - this.#lastEnd < this.intervalMs) return 0;
      this.#throughOpen = true;
      this.#throughEpoch++;
      this.#lastStart = now;
      this.#throughUntil = now + this.idleBudgetMs;
      queueMicrotask(this.#closeThrough);
    } else if (now >= this.#throughUntil) return 0;
    return last === this.#throughEpoch ? 0 : this.#throughEpoch;
  }

  /** Ends the turn's write-through; it counts as a pass (for spacing) unless a pass follows it. */
  readonly #closeThrough = (): void => {
    this.#throughOpen = false;
    if (this.#state !== 0) return;
    this.#lastEnd = performance.now();
    this.#busy = this.#lastEnd - this.#lastStart >= this.intervalMs / 5;
  };

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
