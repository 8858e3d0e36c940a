/**
 * The time, read once per turn of the event loop. Every event published in one synchronous burst
 * shares the same `time`: reading the clock and formatting ISO-8601 per event was a large part of
 * what a publish cost, and events of one turn happen, for any reader, at the same moment.
 */
let ms: number | undefined;
let iso: string | undefined;
let at: number | undefined;
/** Constant for the page's life; reading it is a binding call in browsers, so it is read once. */
const origin = performance.timeOrigin;

function reset(): void {
  ms = undefined;
  iso = undefined;
  at = undefined;
}

/** Milliseconds since the epoch, as of the start of this turn's first read. */
export function turnMs(): number {
  if (ms === undefined) {
    ms = Date.now();
    queueMicrotask(reset);
  }
  return ms;
}

/** {@link turnMs} as an ISO-8601 string, formatted at most once per turn. */
export function turnIso(): string {
  return (iso ??= new Date(turnMs()).toISOString());
}

/** {@link turnMs} on the `performance.now()` clock (whole milliseconds), for trace records. */
export function turnAt(): number {
  return (at ??= turnMs() - origin);
}
