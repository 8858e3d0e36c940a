/**
 * The page could not prove who it is: its token source failed or refused (the token URL answered
 * 4xx, the page's `accessTokenFactory` threw), or the hub refused its token (negotiate answered 401
 * or 403). `message` is for a person and carries what the server said, e.g. the demo's "this server
 * issues no page tokens: start it with PAGE_TOKEN_TTL=<seconds> …".
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  /** The HTTP status that said so, when one did. */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** Long enough for a body to carry a useful sentence, short enough for a status line. */
const MAX_REASON = 400;

/** The `error` (or `message`) of a JSON body, or the text itself; `''` when there is none. */
export function bodyReason(text: string): string {
  let reason = text.trim();
  try {
    const parsed = JSON.parse(reason) as {error?: unknown; message?: unknown} | null;
    const said = parsed?.error ?? parsed?.message;
    if (typeof said === 'string') reason = said;
  } catch {
    // Not JSON: the text is the reason.
  }
  reason = reason.replace(/\s+/g, ' ').trim();
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

/**
 * The official client reports a refused negotiate as "Failed to complete negotiation with the
 * server: Error: <the response body>: Status code '401'"; this is its status and body.
 */
const NEGOTIATE_REFUSED = /negotiation with the server: (?:\w*Error: )?([\s\S]*?): Status code '(401|403)'/;

/** Why a connect attempt failed, for a person, and whether retrying soon can help. */
export interface ConnectFailure {
  /** A sentence for a person, with what the server said. */
  readonly reason: string;
  /**
   * The page's credentials were refused (an {@link AuthenticationError} from the token source, or
   * the hub's 401/403): the same attempt soon would be refused again, so the bridge waits longer.
   */
  readonly refused: boolean;
}

/**
 * Why a connect attempt failed, when the page's token source or the hub said why; `undefined` for
 * other failures (the network, a restart), which the bridge retries as usual without a reason.
 * `tokenError` is what the bridge's token factory threw during that attempt, if it threw.
 */
export function connectFailure(error: unknown, tokenError?: unknown): ConnectFailure | undefined {
  if (tokenError !== undefined) {
    const message = tokenError instanceof Error ? tokenError.message : String(tokenError);
    return {
      reason: `The page could not get an access token: ${bodyReason(message.replace(/^switchboard: /, ''))}`,
      refused: tokenError instanceof AuthenticationError,
    };
  }
  const refused = NEGOTIATE_REFUSED.exec(error instanceof Error ? error.message : String(error));
  if (refused === null) return undefined;
  const said = bodyReason(refused[1]!);
  return {reason: `The hub refused the connection (${refused[2]})${said === '' ? '.' : `: ${said}`}`, refused: true};
}
