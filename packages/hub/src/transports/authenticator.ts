import type {IncomingHttpHeaders} from 'node:http';

/** Who a connection belongs to. `userId` is what the hub's user targets address. */
export interface Principal {
  readonly userId: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** What an authenticator sees of a request. */
export interface AuthenticationRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  /**
   * The access token: from `Authorization: Bearer` (negotiate, long polling, POST, DELETE, the Node
   * client's WebSocket) or the `access_token` query parameter (browser WebSockets, SSE).
   */
  readonly token: string | undefined;
}

/**
 * Decides who a request is: a principal, `null` to refuse it with 401, or `undefined` to let it in
 * as anonymous (policies decide what anonymous clients may do). Called on negotiate and
 * on every transport request; a connection's later requests must resolve to the same user.
 *
 * ```ts
 * const authenticate: Authenticator = async ({token}) => {
 *   const {payload} = await jwtVerify(token ?? '', key);
 *   return {userId: String(payload.sub), claims: payload};
 * };
 * ```
 */
export type Authenticator = (request: AuthenticationRequest) => Principal | null | undefined | Promise<Principal | null | undefined>;

/** Reads the access token of a request, from the Authorization header or the query string. */
export function accessToken(url: URL, headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match !== null) return match[1];
  }
  return url.searchParams.get('access_token') ?? undefined;
}
