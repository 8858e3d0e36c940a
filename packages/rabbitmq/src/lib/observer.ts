/** What the bridge reports as it works, for metrics (every method is optional to implement sensibly as a no-op). */
export interface BridgeObserver {
  /** A message became a new event of `topic`. */
  ingested(topic: string): void;
  /** A redelivered message whose event the topic already held: acknowledged, not appended again. */
  duplicate(topic: string): void;
  /** A message refused (invalid, not allowed, too large) and sent to the dead-letter exchange. */
  deadLettered(topic: string): void;
  /** An append failed because the topic log is unavailable; the message waits unacknowledged. */
  stalled(topic: string): void;
  /** Events of `topic` the broker confirmed on the egress exchange. */
  egressed(topic: string, n: number): void;
  /** A command routed over RPC ended: `answered`, `rejected` (the service said no), `timeout`, `unroutable`, `unavailable`. */
  command(type: string, outcome: CommandOutcome): void;
}

/** How a command sent over RPC ended. */
export type CommandOutcome = 'answered' | 'rejected' | 'timeout' | 'unroutable' | 'unavailable';

/** An observer that ignores everything. */
export const NO_OBSERVER: BridgeObserver = {
  ingested() {},
  duplicate() {},
  deadLettered() {},
  stalled() {},
  egressed() {},
  command() {},
};
