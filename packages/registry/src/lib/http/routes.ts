/**
 * The registry on a {@link SwitchboardServer}: the shell page and `/composition.json` composed per
 * request, and the deploy API under `/api/registry/` guarded by the `deploy` scope.
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import {stat, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {COMPOSITION_PATH} from '@switchboard/contracts';
import {BodyTooLargeError, hasScope, readBody, sendJson, type Route, type RouteContext} from '@switchboard/hub';
import type {DeployRegistry} from '../deploy-registry.js';
import {RegistryRefusal} from '../errors.js';
import {renderPage} from './page.js';
import {visitorOf} from './visitor.js';

/** The scope a token needs for the deploy API. */
export const DEPLOY_SCOPE = 'deploy';
/** Where the deploy API lives. */
export const REGISTRY_API = '/api/registry';

/**
 * Who may use the deploy API: `token` (a JWT with the `deploy` scope, on the server's authenticator),
 * `loopback` (no tokens: only requests from this machine) or `open` (anyone: a private network only).
 */
export type RegistryAccess = 'token' | 'loopback' | 'open';

/** Options of {@link registryRoutes}. */
export interface RegistryRoutesOptions {
  readonly registry: DeployRegistry;
  readonly access: RegistryAccess;
  /** The built shell: `index.html` there is served composed at `/` and `/index.html`. */
  readonly staticDir?: string;
  /** Largest API body; default 256 KB. */
  readonly maxBodyBytes?: number;
  /**
   * Other requests that get the composed shell page besides `/` and `/index.html`: deep links into
   * the shell's routes (`/ops`, `/orders/o-1`), which its router renders. Default: none.
   */
  readonly shellPage?: (req: IncomingMessage, url: URL) => boolean;
}

const HTML_HEADERS = {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', vary: 'Cookie'};

/**
 * The routes, for `server.addRoutes(registryRoutes({registry, access: 'token', staticDir: 'dist'}))`.
 */
export function registryRoutes(options: RegistryRoutesOptions): Route {
  const {registry, access} = options;
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  let cached: {mtimeMs: number; size: number; html: string} | undefined;
  const shellHtml = async (): Promise<string | undefined> => {
    if (options.staticDir === undefined) return undefined;
    const path = join(options.staticDir, 'index.html');
    try {
      // Read again whenever the file changed (a rebuild under a running server).
      const info = await stat(path);
      if (cached === undefined || cached.mtimeMs !== info.mtimeMs || cached.size !== info.size) cached = {mtimeMs: info.mtimeMs, size: info.size, html: await readFile(path, 'utf8')};
      return cached.html;
    } catch {
      return undefined;
    }
  };

  return async (req, res, url, context) => {
    const path = url.pathname;
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === '/' || path === '/index.html' || options.shellPage?.(req, url) === true)) {
      const html = await shellHtml();
      if (html === undefined) return false;
      const page = await composeOrFail(registry, req, res);
      if (page === undefined) return true;
      const body = renderPage(html, page);
      res.writeHead(200, {...HTML_HEADERS, 'content-length': String(Buffer.byteLength(body))});
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    if ((path === COMPOSITION_PATH || path === '/manifest.json') && (req.method === 'GET' || req.method === 'HEAD')) {
      const page = await composeOrFail(registry, req, res);
      if (page === undefined) return true;
      sendJson(res, 200, page.composition, {vary: 'Cookie'});
      return true;
    }
    if (path !== REGISTRY_API && !path.startsWith(`${REGISTRY_API}/`)) return false;
    const refusal = denied(access, req, context);
    if (refusal !== undefined) {
      req.resume();
      sendJson(res, refusal.status, {error: refusal.error});
      return true;
    }
    try {
      await api(registry, req, res, url, context, maxBody);
    } catch (error) {
      if (error instanceof RegistryRefusal) sendJson(res, error.status, {error: error.message, code: error.code, ...(error.current === undefined ? {} : {current: error.current})});
      else if (error instanceof BodyTooLargeError) sendJson(res, 413, {error: `the body is larger than ${maxBody} bytes`});
      else throw error;
    }
    return true;
  };
}

async function composeOrFail(registry: DeployRegistry, req: IncomingMessage, res: ServerResponse) {
  try {
    return await registry.compose(visitorOf(req, res));
  } catch (error) {
    // The store is down (Redis unreachable): say so; the shell shows its error page and retries.
    sendJson(res, 503, {error: `the deploy registry is unavailable: ${(error as Error).message}`}, {'retry-after': '2'});
    return undefined;
  }
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function denied(access: RegistryAccess, req: IncomingMessage, context: RouteContext): {status: number; error: string} | undefined {
  if (access === 'open') return undefined;
  if (access === 'loopback') {
    return isLoopback(req.socket.remoteAddress) ? undefined : {status: 403, error: 'the deploy API answers only this machine while the server has no authentication; turn tokens on (a "deploy" scope)'};
  }
  if (context.principal === undefined) return {status: 401, error: 'the deploy API needs an access token with the "deploy" scope'};
  return hasScope(context.principal, DEPLOY_SCOPE) ? undefined : {status: 403, error: 'this token lacks the "deploy" scope'};
}

async function jsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  // A JSON media type also keeps cross-site forms out: a browser must ask (CORS preflight) first.
  if (!/^application\/json\b/i.test(type)) {
    req.resume();
    throw new RegistryRefusal('invalid', 'send the body as application/json');
  }
  const text = (await readBody(req, limit)).toString('utf8');
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return body as Record<string, unknown>;
  } catch (error) {
    throw new RegistryRefusal('invalid', `the body is not a JSON object (${(error as Error).message})`);
  }
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RegistryRefusal('invalid', `"${key}" must be a string`);
  return v;
}

function expectOf(body: Record<string, unknown>): string {
  const expect = optionalString(body, 'expect');
  if (expect === undefined) throw new RegistryRefusal('invalid', '"expect" is required: the revision this change is based on (GET /api/registry gives the current one)');
  return expect;
}

function percentOf(body: Record<string, unknown>): number {
  const percent = body['percent'];
  if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) throw new RegistryRefusal('invalid', '"percent" must be a number from 0 to 100');
  return percent;
}

async function api(registry: DeployRegistry, req: IncomingMessage, res: ServerResponse, url: URL, context: RouteContext, maxBody: number): Promise<void> {
  const by = context.principal?.userId;
  const path = url.pathname.slice(REGISTRY_API.length);
  if (req.method === 'GET' && path === '') {
    const state = await registry.state();
    return sendJson(res, 200, {revision: String(state.revision), environment: registry.environment, overridesAllowed: registry.overridesAllowed, apps: state.apps, shell: state.shell ?? null});
  }
  if (req.method === 'GET' && path === '/history') {
    const limit = Number(url.searchParams.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RegistryRefusal('invalid', 'limit must be an integer from 1 to 10000');
    const name = url.searchParams.get('name');
    const all = await registry.history(name === null ? limit : undefined);
    return sendJson(res, 200, {changes: name === null ? all : all.filter((c) => c.name === name).slice(-limit)});
  }
  if (req.method === 'POST' && path === '/deploys') {
    const body = await jsonBody(req, maxBody);
    const canary = body['canary'] === undefined ? undefined : (body['canary'] as Record<string, unknown>);
    const change = await registry.deploy(body['record'], {
      expect: expectOf(body),
      ...(by === undefined ? {} : {by}),
      ...(canary === undefined ? {} : {canary: {percent: percentOf(canary), ...(canary['cohort'] === undefined ? {} : {cohort: canary['cohort'] as never})}}),
    });
    return sendJson(res, 201, {change, revision: String(change.revision)});
  }
  const action = /^\/apps\/([^/]+)\/(rollback|promote|canary)$/.exec(path);
  if (req.method === 'POST' && action !== null) {
    const name = decodeURIComponent(action[1]!);
    const body = await jsonBody(req, maxBody);
    const base = {expect: expectOf(body), ...(by === undefined ? {} : {by})};
    let change;
    if (action[2] === 'rollback') {
      const to = optionalString(body, 'to');
      change = await registry.rollback(name, {...base, ...(to === undefined ? {} : {to})});
    } else if (action[2] === 'promote') {
      change = await registry.promote(name, base);
    } else {
      const version = optionalString(body, 'version');
      if (version === undefined) throw new RegistryRefusal('invalid', '"version" is required: the deployed version the canary share gets');
      change = await registry.canary(name, {version, percent: percentOf(body), ...(body['cohort'] === undefined ? {} : {cohort: body['cohort'] as never})}, base);
    }
    return sendJson(res, 200, {change, revision: String(change.revision)});
  }
  req.resume();
  sendJson(res, 404, {error: `no such registry route: ${req.method} ${url.pathname}`});
}
