/**
 * `GET /auth/token`: where the demo's pages get their access token (`<meta name="switchboard-token-url">`
 * in the shell). A real site answers here from its login session; the demo has no login, so it
 * hands a short-lived token without grants (what the topic policies allow any authenticated user) to
 * whoever asks, when PAGE_TOKEN_TTL is set. It grants nothing an anonymous page could not do in an
 * open demo; it shows how pages connect to a hub that requires tokens. A visitor cookie keeps the
 * subject stable across a browser's requests, as a login session would: the hub checks that every
 * request of a connection comes from the user who negotiated it.
 */
import {randomUUID} from 'node:crypto';
import {SignJWT} from 'jose';
import type {Route} from '@switchboard/hub';

/** What the token route needs to know about the server's authentication. */
export interface PageTokenOptions {
  /** Whether the server checks tokens at all. */
  readonly authenticated: boolean;
  /** Whether requests without a token are let in as anonymous (AUTH_ALLOW_ANONYMOUS=1). */
  readonly allowAnonymous: boolean;
  /** The HS256 secret to sign page tokens with, and their lifetime; absent: no page tokens. */
  readonly issue?: {readonly secret: string; readonly ttlSeconds: number; readonly issuer?: string; readonly audience?: string};
}

/** The path of the route. */
export const PAGE_TOKEN_PATH = '/auth/token';
/** The cookie that names the visitor (the tokens' subject). */
const VISITOR_COOKIE = 'switchboard-visitor';
const VISITOR = /^[0-9a-f-]{36}$/;

/** The visitor id of the request's cookie, if it carries a well-formed one. */
function visitorOf(cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === VISITOR_COOKIE && value !== undefined && VISITOR.test(value)) return value;
  }
  return undefined;
}

/**
 * The route: `200 {token, expiresIn}` with a fresh token for `visitor-<uuid>` when page tokens are on
 * (the uuid kept in a cookie);
 * `204` when pages need none (no authentication, or anonymous requests allowed); otherwise `404`
 * saying how to turn them on.
 */
export function pageTokenRoute(options: PageTokenOptions): Route {
  return async (req, res, url) => {
    if (url.pathname !== PAGE_TOKEN_PATH || req.method !== 'GET') return false;
    const headers = {'cache-control': 'no-store'};
    const {issue} = options;
    if (issue !== undefined) {
      const known = visitorOf(req.headers.cookie);
      const visitor = known ?? randomUUID();
      let jwt = new SignJWT({})
        .setProtectedHeader({alg: 'HS256'})
        .setSubject(`visitor-${visitor}`)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + issue.ttlSeconds);
      if (issue.issuer !== undefined) jwt = jwt.setIssuer(issue.issuer);
      if (issue.audience !== undefined) jwt = jwt.setAudience(issue.audience);
      const token = await jwt.sign(new TextEncoder().encode(issue.secret));
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/json',
        ...(known === undefined ? {'set-cookie': `${VISITOR_COOKIE}=${visitor}; Path=${PAGE_TOKEN_PATH}; HttpOnly; SameSite=Lax`} : {}),
      });
      res.end(JSON.stringify({token, expiresIn: issue.ttlSeconds}));
    } else if (!options.authenticated || options.allowAnonymous) {
      res.writeHead(204, headers);
      res.end();
    } else {
      res.writeHead(404, {...headers, 'content-type': 'application/json'});
      res.end(JSON.stringify({error: 'this server issues no page tokens: start it with PAGE_TOKEN_TTL=<seconds> (and AUTH_JWT_SECRET), or serve tokens from your login here'}));
    }
    return true;
  };
}
