import type {ValidationIssue} from '@switchboard/contracts';

/** Thrown by a publish whose data fails its contract; nothing was delivered. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    message: string,
    /** Every problem found, each with its path (`data.quantity`). */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(message);
  }
}

/** Thrown when a source publishes a type the shell did not allow it to; nothing was delivered. */
export class PermissionError extends Error {
  override readonly name = 'PermissionError';
}

/** Thrown when a chain of events causing events grows deeper than the bus allows (a loop, usually). */
export class CausationLoopError extends Error {
  override readonly name = 'CausationLoopError';
}

/** A command was published or sent, and no handler is registered for it. */
export class NoHandlerError extends Error {
  override readonly name = 'NoHandlerError';
}

/** A second handler was registered for a command: a command has exactly one. */
export class DuplicateHandlerError extends Error {
  override readonly name = 'DuplicateHandlerError';
}

/** A request found no responder. */
export class NoResponderError extends Error {
  override readonly name = 'NoResponderError';
}

/** A request found several responders and cannot tell whose answer counts. */
export class AmbiguousResponderError extends Error {
  override readonly name = 'AmbiguousResponderError';
}

/** A request's responder did not answer within the timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}
