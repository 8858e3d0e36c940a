import type {ValidationIssue} from '@switchboard/contracts';

/** Thrown by a publish whose envelope or data fails its contract; nothing was delivered. */
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
