import type {Bus} from '@switchboard/bus';
import type {Contract, Envelope} from '@switchboard/contracts';
import {uuidOf} from './derived-id';
import {withMethod} from './with-method';

/** A service's handler of one event; one that returns a promise is done when it settles. */
export type ServiceHandler = (e: Envelope) => void | Promise<void>;

/** Attempts of a failing handler before its event is dead-lettered, and the wait between them (growing: `backoffMs × attempt`). */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
}

/**
 * One handling under way (an event by one handler, a command, a dead letter): what is published
 * while it runs synchronously gets ids `hash(id, n)`, the same when it is handled again.
 */
export interface Handling {
  readonly id: string;
  /** Publishes so far: the next derived id's index. */
  n: number;
  /** The handled event, the parent of what is published (absent for a command: its handler names it). */
  readonly parent?: Envelope;
  /** Ids of everything published in this run of the handlers (shared by its attempts and handlers). */
  readonly published: string[];
}

/** A handler of `event` failed its last attempt. */
export interface FailedHandling {
  readonly service: string;
  readonly event: Envelope;
  readonly error: unknown;
  readonly attempt: number;
}

/** What {@link ServiceRunner.run} did: the ids published and, when a handler gave up, its last failure. */
export interface RunOutcome {
  readonly published: readonly string[];
  readonly failure?: FailedHandling;
}

/** What differs between the places services run (Redis consumer groups, RabbitMQ queues). */
export interface ServiceRunnerOptions {
  readonly retry: RetryPolicy;
  /**
   * Records a dead letter after a handler's last attempt. It runs inside a handling of its own
   * (`<service>:<handler>:<event id>:dead`), so what it publishes on a {@link ServiceRunner.bus}
   * gets an id a redelivery derives again.
   */
  readonly deadLetter: (failed: FailedHandling) => void;
}

/**
 * Runs services' handlers the same way wherever they consume: per handler, attempts with a
 * growing backoff, a {@link Handling} from which what the handler publishes takes ids derived
 * from the handled event (so a redelivery is stored once), and a dead letter after the last attempt.
 *
 * ```ts
 * const runner = new ServiceRunner({retry: {attempts: 3, backoffMs: 100}, deadLetter: (f) => record(f)});
 * const services = runner.bus(serverBus); // give this to the handlers
 * const {published, failure} = await runner.run('inventory', event, handlers);
 * ```
 */
export class ServiceRunner {
  readonly #o: ServiceRunnerOptions;
  /** The handling under way; it holds only while a handler runs synchronously. */
  #current: Handling | undefined;

  constructor(options: ServiceRunnerOptions) {
    this.#o = options;
  }

  /** The handling under way, if a handler is running synchronously now. */
  get current(): Handling | undefined {
    return this.#current;
  }

  /** Runs `fn` as the handling `id` (of `parent`, if any); the handling ends when `fn` returns, before any promise it returns settles. */
  within<T>(id: string, fn: () => T, parent?: Envelope, published: string[] = []): T {
    const previous = this.#current;
    this.#current = parent === undefined ? {id, n: 0, published} : {id, n: 0, parent, published};
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }

  /** An id for what the handling under way creates (an order), the same when it is handled again; undefined outside a handling. */
  newId(purpose: string): string | undefined {
    return this.#current === undefined ? undefined : uuidOf(`${this.#current.id}:id:${purpose}`);
  }

  /**
   * `bus` whose `publish` gives what the handlers publish the handled event as parent (unless they
   * name one) and an id derived from the handling (or, outside one, from the parent they name), so
   * a redelivery publishes the same ids. `published` sees each envelope published (with the
   * handling it was published in).
   */
  bus(bus: Bus, published?: (envelope: Envelope, handling: Handling | undefined, parent: Envelope | undefined) => void): Bus {
    const publish = (contract: Contract, data: unknown, given: {id?: string; parent?: Envelope; source?: string} = {}) => {
      const handling = this.#current;
      // The bus links a handler's publishes to the event it handles only when it dispatched that
      // event itself; consumer groups and queues dispatch here, so the link is made here.
      const parent = given.parent ?? handling?.parent;
      const options = parent === undefined ? given : {...given, parent};
      let id = options.id;
      if (id === undefined && handling !== undefined) id = uuidOf(`${handling.id}:${handling.n++}`);
      else if (id === undefined && parent !== undefined) id = uuidOf(`${options.source ?? ''}:${parent.id}:${contract.type}`);
      const envelope = bus.publish(contract, data as never, id === undefined ? options : {...options, id});
      handling?.published.push(envelope.id);
      published?.(envelope, handling, parent);
      return envelope;
    };
    return withMethod(bus, 'publish', publish as never);
  }

  /**
   * Runs a service's handlers of `event` one after another, each with retries; the last failure of
   * a handler is dead-lettered and the next handler still runs. Resolves once every handler is done
   * (a handler that waits, like shipping, is done only then).
   */
  async run(service: string, event: Envelope, handlers: readonly ServiceHandler[]): Promise<RunOutcome> {
    const {attempts, backoffMs} = this.#o.retry;
    const published: string[] = [];
    let failure: FailedHandling | undefined;
    for (const [index, handler] of handlers.entries()) {
      const id = `${service}:${index}:${event.id}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.within(id, () => handler(event), event, published);
          break;
        } catch (error) {
          if (attempt >= attempts) {
            failure = {service, event, error, attempt};
            const failed = failure;
            this.within(`${id}:dead`, () => this.#o.deadLetter(failed), event, published);
            break;
          }
        }
        await new Promise((r) => setTimeout(r, backoffMs * attempt));
      }
    }
    return failure === undefined ? {published} : {published, failure};
  }
}
