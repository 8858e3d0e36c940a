import type {IncomingMessage, ServerResponse} from 'node:http';
import type {EventService} from '../events/event-service';
import {TOPIC_PATTERN} from '../events/event-service';
import {BodyTooLargeError, readBody} from './body';
import {sendJson} from './respond';

/** Path of the topic events resource; the topic is the one captured segment. */
const EVENTS_PATH = /^\/api\/topics\/([^/]+)\/events$/;

/** The most events one GET returns. */
const MAX_LIMIT = 1000;

/**
 * `POST /api/topics/{topic}/events` (ingest one envelope) and `GET` of the same path (read retained
 * events after an offset). Returns false for any other path.
 */
export async function handleTopicsApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  events: EventService,
  options: {maxBodyBytes: number},
): Promise<boolean> {
  const match = EVENTS_PATH.exec(url.pathname);
  if (match === null) return false;
  const topic = decodeURIComponent(match[1]!);
  if (!TOPIC_PATTERN.test(topic)) {
    sendJson(res, 400, {error: 'invalid topic', issues: [{path: 'topic', message: `"${topic}" is not a valid topic name`}]});
    return true;
  }
  if (req.method === 'POST') await ingest(req, res, topic, events, options.maxBodyBytes);
  else if (req.method === 'GET' || req.method === 'HEAD') query(res, url, topic, events);
  else sendJson(res, 405, {error: 'use GET or POST'}, {allow: 'GET, HEAD, POST'});
  return true;
}

async function ingest(req: IncomingMessage, res: ServerResponse, topic: string, events: EventService, limit: number): Promise<void> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    req.resume();
    sendJson(res, 415, {error: `unsupported media type "${mediaType}"; send application/json`});
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, limit);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    sendJson(res, 413, {error: `body too large: the limit is ${limit} bytes`}, {connection: 'close'});
    return;
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    sendJson(res, 400, {error: 'body is not valid JSON', issues: []});
    return;
  }
  const result = events.publish(topic, input);
  if (!result.ok) sendJson(res, 400, {error: result.error, issues: result.issues});
  else sendJson(res, 202, {offset: result.value.offset});
}

function query(res: ServerResponse, url: URL, topic: string, events: EventService): void {
  const after = url.searchParams.get('after');
  const limitParam = url.searchParams.get('limit');
  const limit = limitParam === null ? 100 : Number(limitParam);
  if (after !== null && !events.log.isOffset(after)) {
    sendJson(res, 400, {error: 'invalid offset', issues: [{path: 'after', message: `"${after}" is not an offset`}]});
    return;
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    sendJson(res, 400, {error: 'invalid limit', issues: [{path: 'limit', message: `must be a whole number from 1 to ${MAX_LIMIT}`}]});
    return;
  }
  const page = events.log.read(topic, after, limit);
  sendJson(res, 200, {events: page.entries, next: page.next, truncated: page.truncated});
}
