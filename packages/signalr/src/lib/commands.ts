import {HubConnectionState, type HubConnection} from '@microsoft/signalr';
import {HubMethods, type Envelope} from '@switchboard/contracts';
import type {ConnectionState} from './bridge-types.js';
import {CommandInterruptedError, OfflineError} from './errors.js';

/** What {@link sendCommand} needs of the bridge: its current connection and its state. */
export interface CommandTarget {
  /** The connection now (the bridge may replace it). */
  connection(): HubConnection;
  /** The bridge's state now. */
  state(): ConnectionState;
  /** Calls `listener` on each state change; returns a function that stops it. */
  onState(listener: (state: ConnectionState) => void): () => void;
}

/**
 * Sends a command to the server over the bridge's current connection: at once when connected; otherwise it waits up to
 * `waitMs` for the connection and is sent once it is back, or refused with
 * {@link OfflineError} (and never sent later). A connection lost after sending is reported as
 * {@link CommandInterruptedError}, not retried: the server may have carried it out.
 */
export async function sendCommand(target: CommandTarget, envelope: Envelope, waitMs: number): Promise<unknown> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (target.connection().state !== HubConnectionState.Connected) await connected(target, deadline, waitMs, envelope.type);
    const connection = target.connection();
    const id = connection.connectionId;
    try {
      return await connection.invoke(HubMethods.command, envelope);
    } catch (error) {
      const message = (error as Error).message ?? '';
      // Refused by the client before anything was sent: wait for the connection again.
      if (/Cannot send data/i.test(message)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (Date.now() < deadline) continue;
        throw new OfflineError(`Not sent: no connection to the server. "${envelope.type}" was dropped; try again when the page is back online.`);
      }
      const lost = connection !== target.connection() || connection.state !== HubConnectionState.Connected || connection.connectionId !== id;
      if (lost || /connection being closed|connection was stopped/i.test(message)) {
        throw new CommandInterruptedError(`The connection to the server dropped before it answered: "${envelope.type}" may or may not have been carried out.`);
      }
      throw error;
    }
  }
}

/** Resolves when connected, or rejects with {@link OfflineError} at `deadline`. */
function connected(target: CommandTarget, deadline: number, waitMs: number, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = (): void => {};
    const timer = setTimeout(() => {
      stop();
      const seconds = Math.round(waitMs / 1000);
      reject(new OfflineError(`Not sent: no connection to the server for ${seconds} s. "${type}" was dropped; try again when the page is back online.`));
    }, Math.max(0, deadline - Date.now()));
    const listener = (state: ConnectionState): void => {
      if (state.status !== 'connected' || target.connection().state !== HubConnectionState.Connected) return;
      clearTimeout(timer);
      queueMicrotask(() => stop());
      resolve();
    };
    stop = target.onState(listener);
    listener(target.state());
  });
}
