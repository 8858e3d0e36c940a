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

/** Messages of the SignalR client itself: about the connection, never meant for a person. */
const CLIENT_INTERNAL = /Cannot send data|connection is not in the|Invocation canceled|underlying connection|WebSocket|negotiat|transport|Failed to fetch|Server timeout/i;

/**
 * A sentence for a person about why a command failed: says whether it was sent at all, never shows
 * the SignalR client's own error text. A refusal by the server (its `HubError` message, e.g.
 * "Unknown product") is passed through.
 *
 * ```ts
 * try { await bus.send(Restock, data); } catch (error) { this.error = describeCommandError(error, 'Restock'); }
 * ```
 */
export function describeCommandError(error: unknown, action = 'The command'): string {
  const name = (error as {name?: unknown} | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'OfflineError') return `${action} was not sent: the page is offline. Try again when it is back.`;
  if (name === 'CommandInterruptedError') return `The connection dropped before the server answered: ${action} may or may not have been carried out.`;
  if (name === 'RequestTimeoutError') return `${action}: no answer from the server in time.`;
  if (/unexpected error occurred/i.test(message)) return `${action} failed on the server.`;
  if (CLIENT_INTERNAL.test(message)) return `${action} failed: the server could not be reached.`;
  return message.replace(/^.*HubException: /, '');
}
