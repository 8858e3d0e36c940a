/**
 * `npm run token -- --sub alice [--scope "publish:orders admin"] [--topics orders,inventory] [--ttl 3600]`:
 * prints an HS256 access token signed with AUTH_JWT_SECRET, for trying `AUTH_JWT_SECRET=… npm start`
 * (curl -H "Authorization: Bearer $(npm run -s token -- --sub alice)" …).
 */
import {parseArgs} from 'node:util';
import {SignJWT} from 'jose';

/** Claims of a token: the subject, optional grants, and its lifetime in seconds. */
export interface TokenRequest {
  readonly sub: string;
  readonly scope?: string;
  readonly topics?: readonly string[];
  readonly ttlSeconds?: number;
}

/** Signs a token for `request` with the HS256 `secret`. */
export function mintToken(secret: string, request: TokenRequest): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (request.scope !== undefined && request.scope !== '') claims['scope'] = request.scope;
  if (request.topics !== undefined && request.topics.length > 0) claims['topics'] = [...request.topics];
  return new SignJWT(claims)
    .setProtectedHeader({alg: 'HS256'})
    .setSubject(request.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (request.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(secret));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {values} = parseArgs({
    options: {sub: {type: 'string'}, scope: {type: 'string'}, topics: {type: 'string'}, ttl: {type: 'string'}},
  });
  const secret = process.env['AUTH_JWT_SECRET'];
  if (secret === undefined || values.sub === undefined) {
    console.error('usage: AUTH_JWT_SECRET=… npm run token -- --sub alice [--scope "publish:orders admin"] [--topics orders,inventory] [--ttl 3600]');
    process.exit(2);
  }
  const token = await mintToken(secret, {
    sub: values.sub,
    ...(values.scope === undefined ? {} : {scope: values.scope}),
    ...(values.topics === undefined ? {} : {topics: values.topics.split(',').map((t) => t.trim()).filter(Boolean)}),
    ...(values.ttl === undefined ? {} : {ttlSeconds: Number(values.ttl)}),
  });
  console.log(token);
}
