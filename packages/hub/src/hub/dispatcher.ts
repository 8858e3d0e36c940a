import {MessageType, type CompletionMessage, type HubMessage, type InvocationMessage, type StreamInvocationMessage} from '../protocol/index.js';
import {isCounted} from './hub-connection.js';
import {HubError} from './hub-error.js';
import {parseArguments, type HubFilter, type InvocationContext, type RegisteredMethod, type UploadStreamParam} from './hub-method.js';
import type {Hub} from './hub.js';
import type {Session} from './session.js';
import {UploadStream} from './upload-stream.js';

/** The limits {@link HubDispatcher} enforces, resolved from the hub's options. */
export interface DispatcherLimits {
  /** Invocations of one client that run at once; more wait their turn. */
  readonly maximumParallelInvocationsPerClient: number;
  /** Items of one upload stream buffered before the hub stops reading that connection. */
  readonly streamBufferCapacity: number;
  /** Invocations waiting for a free slot at which the hub stops reading that connection. */
  readonly pauseInvocations: number;
}

/**
 * The hub's dispatcher (internal to the hub): the method registry and filters, and what happens to
 * each message of an open connection: invocations (with upload streams), stream invocations and their
 * cancellation, completions that answer client results, acks and sequence numbers.
 */
export class HubDispatcher {
  readonly #hub: Hub;
  readonly #limits: DispatcherLimits;
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #filters: HubFilter[] = [];
  #nextResultId = 0;

  /** @param hub the hub handlers see in their context, whose logger and clients are used */
  constructor(hub: Hub, limits: DispatcherLimits) {
    this.#hub = hub;
    this.#limits = limits;
  }

  /** Registers a method under its case-insensitive name; throws when the name is taken. */
  register(method: RegisteredMethod): void {
    const key = method.name.toLowerCase();
    if (this.#methods.has(key)) throw new Error(`Hub method '${method.name}' is already registered`);
    this.#methods.set(key, method);
  }

  /** Adds a filter that runs around every invocation; the first added runs outermost. */
  use(filter: HubFilter): void {
    this.#filters.push(filter);
  }

  /**
   * Handles one message of `size` bytes; returns a promise only when the hub must read nothing more
   * from the connection until it settles (an upload stream's buffer is full, or too many invocations
   * wait for a slot).
   */
  handle(session: Session, message: HubMessage, size = 0): Promise<void> | undefined {
    const connection = session.connection;
    if (isCounted(message.type) && !connection.received()) return undefined;
    switch (message.type) {
      case MessageType.Invocation:
        return this.#invocation(session, message, size);
      case MessageType.StreamInvocation:
        this.#streamInvocation(session, message);
        return undefined;
      case MessageType.StreamItem: {
        const upload = session.uploads.get(message.invocationId);
        if (upload === undefined) return undefined;
        const item = upload.item.safeParse(message.item);
        if (!item.success) {
          session.uploads.delete(message.invocationId);
          upload.stream.complete(new HubError(`Invalid item of stream '${upload.name}': ${item.error.issues[0]?.message ?? 'invalid'}.`));
          return undefined;
        }
        return upload.stream.push(item.data);
      }
      case MessageType.Completion:
        this.#completion(session, message);
        return undefined;
      case MessageType.CancelInvocation:
        session.downloads.get(message.invocationId)?.abort();
        return undefined;
      case MessageType.Ack:
        connection.acked(message.sequenceId);
        return undefined;
      case MessageType.Sequence:
        connection.sequence(message.sequenceId);
        return undefined;
      case MessageType.Close:
        connection.closeTransport();
        return undefined;
      case MessageType.Ping:
        return undefined;
    }
  }

  /** Invokes `target` on the session's (open) client and resolves with its result; rejects with its error or after `timeoutMs`. */
  invokeClient<T>(session: Session, target: string, args: readonly unknown[], timeoutMs: number): Promise<T> {
    const connectionId = session.connection.connectionId;
    const invocationId = `s${++this.#nextResultId}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.results.delete(invocationId);
        reject(new Error(`Client '${connectionId}' did not answer '${target}' in time.`));
      }, timeoutMs);
      session.results.set(invocationId, {resolve: resolve as (v: unknown) => void, reject, timer});
      session.connection.send({type: MessageType.Invocation, invocationId, target, arguments: [...args]});
    });
  }

  /** The session's connection closed: its upload streams fail and the client results it owes are rejected. */
  closed(session: Session): void {
    for (const {stream} of session.uploads.values()) stream.complete(new HubError('The connection closed.'));
    for (const pending of session.results.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`Connection '${session.connection.connectionId}' closed before answering.`));
    }
    session.results.clear();
    session.fewerWaiting?.resolve();
    session.fewerWaiting = undefined;
  }

  /** A Completion from the client ends an upload stream or answers a client-result invocation. */
  #completion(session: Session, message: CompletionMessage): void {
    const upload = session.uploads.get(message.invocationId);
    if (upload !== undefined) {
      session.uploads.delete(message.invocationId);
      upload.stream.complete(message.error === undefined ? undefined : new HubError(message.error));
      return;
    }
    const pending = session.results.get(message.invocationId);
    if (pending === undefined) return;
    session.results.delete(message.invocationId);
    clearTimeout(pending.timer);
    if (message.error !== undefined) pending.reject(new Error(message.error));
    else pending.resolve(message.result ?? null);
  }

  #invocation(session: Session, message: InvocationMessage, size: number): Promise<void> | undefined {
    const {invocationId, target} = message;
    const reply = (outcome: {error: string} | {result: unknown}): void => {
      if (invocationId !== undefined) session.connection.send({type: MessageType.Completion, invocationId, ...outcome});
    };
    const method = this.#methods.get(target.toLowerCase());
    if (method === undefined) return void reply({error: `Unknown hub method '${target}'.`});
    if (method.streaming) return void reply({error: `'${method.name}' is a streaming method: call it with stream().`});
    const parsed = parseArguments(method, message.arguments, message.streamIds ?? []);
    if ('error' in parsed) return void reply(parsed);
    const args = parsed.value;
    // Upload streams exist from now on, so items that follow the invocation are never lost.
    const uploads = (message.streamIds ?? []).map((streamId, i) => {
      const name = method.streamNames[i]!;
      const stream = new UploadStream<unknown>(this.#limits.streamBufferCapacity);
      session.uploads.set(streamId, {stream, item: (method.params[name] as UploadStreamParam).item, name});
      args[name] = stream;
      return {streamId, stream};
    });
    return this.#whenSlotFree(session, size, async () => {
      try {
        reply({result: (await this.#run(session, method, args, session.ended)) ?? null});
      } catch (error) {
        // A result the protocol cannot write (too deep, not serializable) fails the invocation, not the process.
        try {
          reply({error: this.#describe(error, method, session)});
        } catch (failed) {
          this.#hub.logger.error({err: failed, connectionId: session.connection.connectionId, target: method.name}, 'could not send an invocation error');
        }
      } finally {
        for (const {streamId, stream} of uploads) {
          session.uploads.delete(streamId);
          stream.complete();
        }
      }
    });
  }

  #streamInvocation(session: Session, message: StreamInvocationMessage): void {
    const {invocationId, target} = message;
    const fail = (error: string): void => session.connection.send({type: MessageType.Completion, invocationId, error});
    const method = this.#methods.get(target.toLowerCase());
    if (method === undefined) return fail(`Unknown hub method '${target}'.`);
    if (!method.streaming) return fail(`'${method.name}' is not a streaming method.`);
    const parsed = parseArguments(method, message.arguments, message.streamIds ?? []);
    if ('error' in parsed) return fail(parsed.error);
    const cancel = new AbortController();
    const signal = AbortSignal.any([cancel.signal, session.ended]);
    session.downloads.set(invocationId, cancel);
    void (async () => {
      try {
        const items = (await this.#run(session, method, parsed.value, signal)) as AsyncIterable<unknown> | Iterable<unknown>;
        if (items === null || typeof items !== 'object' || !(Symbol.asyncIterator in items || Symbol.iterator in items)) {
          throw new TypeError(`'${method.name}' did not return an iterable`);
        }
        for await (const item of items) {
          if (signal.aborted) break;
          session.connection.send({type: MessageType.StreamItem, invocationId, item});
        }
        if (!signal.aborted) session.connection.send({type: MessageType.Completion, invocationId});
      } catch (error) {
        if (!signal.aborted) fail(this.#describe(error, method, session));
      } finally {
        session.downloads.delete(invocationId);
      }
    })();
  }

  /** Runs a method's handler inside the filters. */
  #run(session: Session, method: RegisteredMethod, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const connection = session.connection;
    const hub = this.#hub;
    const context: InvocationContext = {
      hub,
      caller: connection,
      method: method.name,
      signal,
      clients: {
        caller: {send: (target, ...a) => connection.send({type: MessageType.Invocation, target, arguments: a})},
        others: hub.clients.allExcept([connection.connectionId]),
        othersInGroup: (group) => hub.clients.groupExcept(group, [connection.connectionId]),
      },
    };
    const call = (index: number): Promise<unknown> => {
      const filter = this.#filters[index];
      if (filter === undefined) return Promise.resolve().then(() => method.handler(args, context));
      return filter({args, context}, () => call(index + 1));
    };
    return call(0);
  }

  /** The message a failed invocation reports: a HubError's own, otherwise a generic one (logged). */
  #describe(error: unknown, method: RegisteredMethod, session: Session): string {
    if (error instanceof HubError) return error.message;
    this.#hub.logger.error({err: error, connectionId: session.connection.connectionId, target: method.name}, 'hub method failed');
    return `An unexpected error occurred invoking '${method.name}' on the server.`;
  }

  /**
   * Runs `task` when the connection has fewer than the allowed invocations running. A task that
   * must wait counts its message's `size` in the receive queue until it starts; once
   * `pauseInvocations` wait, the returned promise holds the reader until half of them started.
   */
  #whenSlotFree(session: Session, size: number, task: () => Promise<void>): Promise<void> | undefined {
    const start = (): void => {
      session.running++;
      void task()
        .catch((error: unknown) => this.#hub.logger.error({err: error, connectionId: session.connection.connectionId}, 'invocation failed'))
        .finally(() => {
        session.running--;
        const next = session.waiting.shift();
        if (session.fewerWaiting !== undefined && session.waiting.length < this.#limits.pauseInvocations / 2) {
          session.fewerWaiting.resolve();
          session.fewerWaiting = undefined;
        }
        next?.();
      });
    };
    if (session.running < this.#limits.maximumParallelInvocationsPerClient) {
      start();
      return undefined;
    }
    session.queue.hold(size);
    session.waiting.push(() => {
      session.queue.release(size);
      start();
    });
    if (session.waiting.length < this.#limits.pauseInvocations) return undefined;
    if (session.fewerWaiting === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      session.fewerWaiting = {promise, resolve};
    }
    return session.fewerWaiting.promise;
  }
}
