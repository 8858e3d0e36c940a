import type {z} from 'zod';
import type {HubConnection} from './hub-connection.js';
import {ReceiveQueue, type ResolvedReceiveQueueLimits} from './receive-queue.js';
import type {UploadStream} from './upload-stream.js';

/** A client result the server is waiting for. */
export interface PendingResult {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** An upload stream the hub feeds from a connection's StreamItem messages. */
export interface PendingUpload {
  readonly stream: UploadStream<unknown>;
  /** Validates each item. */
  readonly item: z.ZodType;
  /** The parameter's name, for error messages. */
  readonly name: string;
}

/** The hub's bookkeeping for one connection beyond what hub methods see (internal to the hub). */
export class Session {
  /** What the connection sent and the hub has not handled yet. */
  readonly queue: ReceiveQueue;
  /** Whether the queue is being handled. */
  draining = false;
  /** While the queue is full: settles once the transport may read on. */
  resumed: Promise<void> | undefined;
  /** Invocations running now. */
  running = 0;
  /** Invocations waiting for a free slot. */
  readonly waiting: Array<() => void> = [];
  /** While too many invocations wait: the reader waits for fewer. */
  fewerWaiting: {readonly promise: Promise<void>; readonly resolve: () => void} | undefined;
  /** Upload streams by stream id. */
  readonly uploads = new Map<string, PendingUpload>();
  /** Running server-to-client streams by invocation id, aborted by CancelInvocation. */
  readonly downloads = new Map<string, AbortController>();
  /** Client results awaited, by invocation id. */
  readonly results = new Map<string, PendingResult>();
  #ended: AbortController | undefined;
  constructor(
    readonly connection: HubConnection,
    limits: ResolvedReceiveQueueLimits,
  ) {
    this.queue = new ReceiveQueue(limits);
  }

  /** Aborted when the connection ends: every running invocation's signal follows it. Made on first use. */
  get ended(): AbortSignal {
    return (this.#ended ??= new AbortController()).signal;
  }

  /** Aborts {@link ended}, if anyone asked for it. */
  end(): void {
    this.#ended?.abort();
  }
}
