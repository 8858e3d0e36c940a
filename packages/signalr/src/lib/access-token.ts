import {AuthenticationError, bodyReason} from './auth-failure.js';

/**
 * Supplies the access token the page sends to the hub and its HTTP API; `''` sends none. It is
 * called on every (re)connect, so it should return a token that is valid now (refreshing it when
 * needed), as the official client's `accessTokenFactory`.
 */
export type AccessTokenFactory = () => string | Promise<string>;

/**
 * The `<meta name>` whose `content` is a token URL: `<meta name="switchboard-token-url"
 * content="/auth/token">` makes every `pageHub()` of the page without its own
 * `accessTokenFactory` use {@link tokenFromUrl} with that URL.
 */
export const TOKEN_URL_META = 'switchboard-token-url';

/**
 * An {@link AccessTokenFactory} that asks `url` for a token each time it is called: a GET with the
 * page's cookies (`credentials: 'include'`), answered by `200 {"token": "…"}`, or `204` when the
 * server needs no token. A `4xx` answer is an {@link AuthenticationError} naming the URL, the
 * status and what the body said (its `error`, or its text), which the bridge reports as the
 * connection's `reason` and retries slowly; a `5xx` answer is a plain error, retried as usual.
 *
 * ```ts
 * pageHub('/hubs/events', bus, {accessTokenFactory: tokenFromUrl('/auth/token')});
 * ```
 */
export function tokenFromUrl(url: string | URL): AccessTokenFactory {
  const where = String(url);
  return async () => {
    const response = await fetch(where, {credentials: 'include', cache: 'no-store', headers: {accept: 'application/json'}});
    if (response.status === 204) return '';
    if (!response.ok) {
      const said = bodyReason(await response.text().catch(() => ''));
      const message = `switchboard: the token endpoint ${where} answered ${response.status}${said === '' ? '' : `: ${said}`}`;
      throw response.status < 500 ? new AuthenticationError(message, response.status) : new Error(message);
    }
    let token: unknown;
    try {
      token = ((await response.json()) as {token?: unknown} | null)?.token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string') throw new AuthenticationError(`switchboard: the token endpoint ${where} answered without a "token" string`, response.status);
    return token;
  };
}

/**
 * The factory the page declares, if any: a `<meta name="switchboard-token-url">` in the document
 * (resolved against the page's address). `undefined` outside browsers and without the tag.
 */
export function declaredTokenFactory(): AccessTokenFactory | undefined {
  if (typeof document === 'undefined') return undefined;
  const content = document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_URL_META}"]`)?.content.trim();
  if (content === undefined || content === '') return undefined;
  return tokenFromUrl(new URL(content, document.baseURI));
}

/**
 * Whether `token` is a JWT whose `exp` is past or within `marginMs`, so asking for a fresh one
 * beats a request bound to be refused. Tokens of other shapes are never considered expiring.
 */
export function expiresWithin(token: string, marginMs: number, now = Date.now()): boolean {
  const payload = token.split('.')[1];
  if (payload === undefined) return false;
  try {
    const {exp} = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {exp?: unknown};
    return typeof exp === 'number' && exp * 1000 - marginMs <= now;
  } catch {
    return false;
  }
}
