/**
 * An error a hub method raises on purpose: its message reaches the caller as written. Any other
 * error is reported to the caller only as "An unexpected error occurred invoking 'X' on the server.",
 * so internals never leak.
 */
export class HubError extends Error {
  override readonly name = 'HubError';
}
