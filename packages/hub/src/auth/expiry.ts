import type {Principal} from '../transports/authenticator.js';
import {expiresAt} from './jwt.js';

/** The longest delay `setTimeout` keeps; later expiries are re-armed in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Ends connections when their access token expires: a connection authenticated with a token that
 * has `exp` gets a timer, and `expire` runs at that moment (the server closes it, inviting a
 * reconnect, and the client's `accessTokenFactory` supplies a fresh token). Keyed by connection id.
 */
export class ExpiryWatch {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Arms the timer of `connectionId`; `expire` runs at the token's `exp` (at once if already past). */
  watch(connectionId: string, principal: Principal | undefined, expire: () => void): void {
    const at = expiresAt(principal);
    if (at === undefined) return;
    const arm = (): void => {
      const delay = at - Date.now();
      const timer = setTimeout(() => {
        if (delay > MAX_DELAY_MS) return arm();
        this.#timers.delete(connectionId);
        expire();
      }, Math.max(0, Math.min(delay, MAX_DELAY_MS)));
      timer.unref?.();
      this.#timers.set(connectionId, timer);
    };
    arm();
  }

  /** Disarms the timer of a connection that ended. */
  forget(connectionId: string): void {
    clearTimeout(this.#timers.get(connectionId));
    this.#timers.delete(connectionId);
  }

  /** Disarms every timer. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
