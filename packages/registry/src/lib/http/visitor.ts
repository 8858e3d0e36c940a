import {randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Visitor} from '../canary.js';

/** The cookie naming a visitor: canaries are sticky per visitor (the same cookie as the demo's page tokens). */
export const VISITOR_COOKIE = 'switchboard-visitor';
const VISITOR = /^[0-9a-f-]{36}$/;

/** The request's cookies (first value of each name). */
export function cookiesOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const name = part.slice(0, i).trim();
    if (!(name in out)) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

/** The request's visitor; a new one gets an id and the cookie that keeps it. */
export function visitorOf(req: IncomingMessage, res: ServerResponse): Visitor {
  const cookies = cookiesOf(req);
  let id = cookies[VISITOR_COOKIE];
  if (id === undefined || !VISITOR.test(id)) {
    id = randomUUID();
    res.appendHeader('set-cookie', `${VISITOR_COOKIE}=${id}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly`);
  }
  return {id, headers: req.headers, cookies};
}
