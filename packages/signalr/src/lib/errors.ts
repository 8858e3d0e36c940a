/**
 * A command was not sent: the page had no connection to the hub for as long as the bridge waits
 * (`commandWaitMs`). Nothing reached the server; sending it again later is safe.
 */
export class OfflineError extends Error {
  override readonly name = 'OfflineError';
}

/**
 * The connection dropped after a command was sent and before the server answered: the server may
 * or may not have carried it out. The bridge never resends such a command by itself, since not
 * every command is idempotent; the page should look at the state it shows (a projection) first.
 */
export class CommandInterruptedError extends Error {
  override readonly name = 'CommandInterruptedError';
}
