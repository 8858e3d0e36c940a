import {createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey} from 'jose';
import type {Authenticator, Principal} from '../transports/authenticator.js';

/** Options of {@link jwtAuthenticator}: a shared HS256 secret, or the URL of a JSON Web Key Set. */
export interface JwtOptions {
  /** The HS256 secret tokens are signed with (at least 32 bytes, as RFC 7518 asks). */
  readonly secret?: string | Uint8Array;
  /** Where the issuer publishes its public keys (RS256, ES256, …); fetched and cached by `jose`. */
  readonly jwksUrl?: string | URL;
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud`, when set. */
  readonly audience?: string;
  /** Let requests without a token in as anonymous (a bad token is still refused); default false. */
  readonly allowAnonymous?: boolean;
  /**
   * Accept tokens without an `exp` claim (valid until the key changes); default false: such a
   * token is refused, since a leaked one could never be revoked by time.
   */
  readonly allowTokensWithoutExpiry?: boolean;
}

/**
 * An {@link Authenticator} that verifies a JWT (from `Authorization: Bearer` or `access_token`)
 * with `jose`: signature, `exp` (required unless `allowTokensWithoutExpiry`) and `nbf`, and
 * `iss`/`aud` when configured. The principal's user id
 * is `sub`; every claim travels on (grants are read from `topics` and `scope`).
 *
 * ```ts
 * new SwitchboardServer({registry, endpoint: {authenticate: jwtAuthenticator({secret: process.env.AUTH_JWT_SECRET})}});
 * ```
 */
export function jwtAuthenticator(options: JwtOptions): Authenticator {
  const key = keyOf(options);
  const verifyOptions = {
    ...(options.secret !== undefined ? {algorithms: ['HS256']} : {}),
    ...(options.issuer === undefined ? {} : {issuer: options.issuer}),
    ...(options.audience === undefined ? {} : {audience: options.audience}),
    ...(options.allowTokensWithoutExpiry === true ? {} : {requiredClaims: ['exp']}),
  };
  return async ({token}): Promise<Principal | null | undefined> => {
    if (token === undefined || token === '') return options.allowAnonymous === true ? undefined : null;
    try {
      const {payload} = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      if (typeof payload.sub !== 'string' || payload.sub === '') return null;
      return {userId: payload.sub, claims: payload};
    } catch {
      return null;
    }
  };
}

function keyOf(options: JwtOptions): Uint8Array | JWTVerifyGetKey {
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) throw new TypeError('jwtAuthenticator needs exactly one of secret and jwksUrl');
  if (options.jwksUrl !== undefined) return createRemoteJWKSet(new URL(options.jwksUrl));
  const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret!;
  if (secret.length < 32) throw new TypeError('an HS256 secret must be at least 32 bytes long');
  return secret;
}

/** When a principal's token expires, in ms since the epoch; undefined when it carries no `exp`. */
export function expiresAt(principal: Principal | undefined): number | undefined {
  const exp = principal?.claims?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
