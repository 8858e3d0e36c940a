import type {ReadMessage} from '../protocol/index.js';

/**
 * Bounds of what one connection may have received and not yet handled. The hub stops reading a
 * connection whose queue is full, as ASP.NET Core does (it awaits a free invocation slot before it
 * reads on, and applies backpressure past `TransportMaxBufferSize`, 64 KB): TCP then stops the
 * sender. A client that keeps sending anyway is closed.
 */
export interface ReceiveQueueLimits {
  /**
   * Bytes received and not yet handled (transport messages not yet read, invocations waiting for a
   * free slot) at which the hub stops reading the connection; it reads on once they fall below
   * half. Default 64 KB, ASP.NET's `TransportMaxBufferSize`.
   */
  readonly pauseBytes?: number;
  /**
   * Invocations waiting for a free slot at which the hub stops reading on, even within a transport
   * message; it reads on once half of them started. Default 100.
   */
  readonly pauseInvocations?: number;
  /** Bytes received and not yet handled past which the connection is closed: it kept sending while told to wait. Default 4 MB. */
  readonly maxBytes?: number;
}

/** {@link ReceiveQueueLimits} with every default applied. */
export type ResolvedReceiveQueueLimits = Required<ReceiveQueueLimits>;

/** The defaults of {@link ReceiveQueueLimits}. */
export const DEFAULT_RECEIVE_QUEUE_LIMITS: ResolvedReceiveQueueLimits = {pauseBytes: 64 * 1024, pauseInvocations: 100, maxBytes: 4 * 1024 * 1024};

/** A transport message being read, and how many of its bytes are still counted. */
interface Frame {
  readonly messages: Iterator<ReadMessage, void, undefined>;
  left: number;
}

/**
 * What one connection received and the hub has not handled yet (internal to the hub): transport
 * messages, read one hub message at a time, and the bytes of invocations waiting for a slot. It
 * counts bytes, says when it is full (the transport should stop reading) and when there is room.
 */
export class ReceiveQueue {
  readonly #limits: ResolvedReceiveQueueLimits;
  readonly #frames: Frame[] = [];
  #bytes = 0;
  #room: {readonly promise: Promise<void>; readonly resolve: () => void} | undefined;

  constructor(limits: ResolvedReceiveQueueLimits) {
    this.#limits = limits;
  }

  /** Bytes received and not yet handled. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether the transport should stop reading: {@link ReceiveQueueLimits.pauseBytes} reached. */
  get full(): boolean {
    return this.#bytes >= this.#limits.pauseBytes;
  }

  /**
   * Queues a transport message of `bytes` bytes. False, queuing nothing, when it would take the
   * queue past {@link ReceiveQueueLimits.maxBytes} (a message alone in the queue is always taken:
   * the transport bounds its size).
   */
  add(messages: Iterable<ReadMessage>, bytes: number): boolean {
    if (this.#bytes > 0 && this.#bytes + bytes > this.#limits.maxBytes) return false;
    this.#frames.push({messages: messages[Symbol.iterator](), left: bytes});
    this.#bytes += bytes;
    return true;
  }

  /**
   * The next hub message, or undefined when every transport message was read. Its bytes stop
   * counting (the dispatcher {@link hold}s them again if it must wait). Throws what the protocol
   * throws for malformed input.
   */
  next(): ReadMessage | undefined {
    for (;;) {
      const frame = this.#frames[0];
      if (frame === undefined) return undefined;
      const read = frame.messages.next();
      if (read.done === true) {
        // What is left is framing the messages' sizes did not cover.
        this.#frames.shift();
        this.release(frame.left);
        continue;
      }
      const share = Math.min(read.value.size, frame.left);
      frame.left -= share;
      this.release(share);
      return read.value;
    }
  }

  /** Counts `bytes` of a message kept waiting (an invocation waiting for a free slot). */
  hold(bytes: number): void {
    this.#bytes += bytes;
  }

  /** Stops counting `bytes`; wakes {@link room} waiters once below half of the pause bound. */
  release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#room !== undefined && this.#bytes < this.#limits.pauseBytes / 2) this.#wake();
  }

  /** Resolves once the queue fell below half of its pause bound, or was cleared. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (this.#room === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#room = {promise, resolve};
    }
    return this.#room.promise;
  }

  /** Drops every queued transport message (the connection ended or broke the protocol) and wakes waiters. */
  clear(): void {
    for (const frame of this.#frames.splice(0)) this.#bytes -= frame.left;
    this.#wake();
  }

  #wake(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
  }
}
