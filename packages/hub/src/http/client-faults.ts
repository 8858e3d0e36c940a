import type {Logger} from 'pino';
import {RequestAbortedError} from './body.js';

/** What a client's fault is answered with, when it can still be answered. */
export interface ClientFault {
  readonly status: number;
  readonly message: string;
}

/**
 * Classifies an error a request handler threw: a client's fault (an aborted body, malformed
 * percent-encoding in the path) or undefined for the server's own errors, which stay error-level
 * with their stack.
 */
export function clientFault(error: unknown): ClientFault | undefined {
  if (error instanceof URIError) return {status: 400, message: 'malformed percent-encoding in the path'};
  if (error instanceof RequestAbortedError) return {status: 400, message: error.message};
  return undefined;
}

/**
 * Logs client faults as one info line each (no stack), at most `perMinute` a minute; the lines left
 * out are counted into the next one written, so a flood of bad requests cannot flood the log.
 */
export class ClientFaultLog {
  #windowStart = 0;
  #written = 0;
  #suppressed = 0;

  constructor(
    readonly logger: Logger,
    readonly perMinute = 10,
    readonly now: () => number = Date.now,
  ) {}

  /** Logs one fault (rate-limited). */
  log(fault: ClientFault, fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.#windowStart >= 60_000) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written >= this.perMinute) {
      this.#suppressed++;
      return;
    }
    this.#written++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.logger.info({...fields, status: fault.status, ...(suppressed > 0 ? {suppressed} : {})}, `client fault: ${fault.message}`);
  }
}
