import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Appender} from '../auth/appender.js';
import type {EventService} from '../events/event-service.js';
import {FORBIDDEN, TOPIC_LIMIT, TOPIC_PATTERN} from '../events/event-service.js';
import type {Principal} from '../transports/authenticator.js';
import type {ValidationIssue} from '@switchboard/contracts';
import {IssueList} from '../events/issue-list.js';
import {RateLimitError} from '../limits/rate-limiter.js';
import {BodyTooLargeError, readBody} from './body.js';
import {binaryCloudEvent, fromCloudEvent, isBinaryCloudEvent} from './cloudevents.js';
import {sendJson} from './respond.js';
import {TopicLogUnavailableError} from '../log/async-topic-log.js';

/** Path of the topic events resource; the topic is the one captured segment. */
const EVENTS_PATH = /^\/api\/topics\/([^/]+)\/events$/;

/** The most events one GET returns. */
const MAX_LIMIT = 1000;

/** Who is asking, for the topic's policy. */
export interface TopicsApiOptions {
  readonly maxBodyBytes: number;
  /** The authenticated principal (undefined: anonymous): reading needs the topic's subscribe permission. */
  readonly principal: Principal | undefined;
  /** Who publishes: ingest is a client's publish, never the server's own append. */
  readonly appender: Appender;
}

/**
 * `POST /api/topics/{topic}/events` (ingest: an envelope as `application/json`, a CloudEvent in
 * structured or binary mode, or a batch of CloudEvents) and `GET` of the same path (read retained
 * events after an offset). Returns false for any other path. A policy's refusal answers 403.
 */
export async function handleTopicsApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  events: EventService,
  options: TopicsApiOptions,
): Promise<boolean> {
  const match = EVENTS_PATH.exec(url.pathname);
  if (match === null) return false;
  const topic = decodeURIComponent(match[1]!);
  if (!TOPIC_PATTERN.test(topic)) {
    sendJson(res, 400, {error: 'invalid topic', issues: [{path: 'topic', message: `"${topic}" is not a valid topic name`}]});
    return true;
  }
  if (req.method === 'POST') await ingest(req, res, topic, events, options);
  else if (req.method === 'GET' || req.method === 'HEAD') {
    const decision = events.canSubscribe(topic, options.principal);
    if (!decision.allowed) sendJson(res, 403, {error: `Forbidden: ${decision.reason}.`});
    else await query(res, url, topic, events).catch(unavailable(res));
  }
  else sendJson(res, 405, {error: 'use GET or POST'}, {allow: 'GET, HEAD, POST'});
  return true;
}

/** Media types the ingest endpoint takes. */
const JSON_TYPE = 'application/json';
const CLOUDEVENT = 'application/cloudevents+json';
const CLOUDEVENT_BATCH = 'application/cloudevents-batch+json';

async function ingest(req: IncomingMessage, res: ServerResponse, topic: string, events: EventService, options: TopicsApiOptions): Promise<void> {
  const limit = options.maxBodyBytes;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== JSON_TYPE && mediaType !== CLOUDEVENT && mediaType !== CLOUDEVENT_BATCH) {
    req.resume();
    sendJson(res, 415, {error: `unsupported media type "${mediaType}"; send ${JSON_TYPE}, ${CLOUDEVENT} or ${CLOUDEVENT_BATCH}`});
    return;
  }
  try {
    events.takePublish(options.appender);
  } catch (error) {
    if (!(error instanceof RateLimitError)) throw error;
    req.resume();
    sendJson(res, 429, {error: error.message}, {'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)))});
    return;
  }
  // The policy first: a client that may not publish here costs no body read and no validation.
  const decision = events.canPublishOn(topic, options.appender);
  if (!decision.allowed) {
    req.resume();
    sendJson(res, 403, {error: `Forbidden: ${decision.reason}.`, issues: [{path: 'topic', message: decision.reason, code: FORBIDDEN}]});
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
  if (mediaType === CLOUDEVENT_BATCH) {
    if (!Array.isArray(input)) return void sendJson(res, 400, {error: 'a batch must be a JSON array of CloudEvents', issues: []});
    const envelopes: unknown[] = [];
    const issues = new IssueList();
    input.forEach((item, i) => {
      const mapped = fromCloudEvent(item);
      if (mapped.ok) envelopes.push(mapped.value);
      else for (const issue of mapped.issues) issues.add(issue, i);
    });
    if (issues.total > 0) {
      return void sendJson(res, 400, {error: `invalid CloudEvents in batch${issues.note()}`, issues: issues.kept, omittedIssues: issues.omitted});
    }
    const result = await events.publishMany(topic, envelopes, options.appender).catch(unavailable(res));
    if (result === undefined) return;
    if (!result.ok) sendJson(res, statusOf(result.issues), {error: result.error, issues: result.issues});
    else sendJson(res, 202, {offsets: result.value.map((r) => r.offset)});
    return;
  }
  let envelope: unknown = input;
  if (mediaType === CLOUDEVENT || isBinaryCloudEvent(req.headers)) {
    const mapped = fromCloudEvent(mediaType === CLOUDEVENT ? input : binaryCloudEvent(req.headers, input));
    if (!mapped.ok) return void sendJson(res, 400, {error: mapped.error, issues: mapped.issues});
    envelope = mapped.value;
  }
  const result = await events.publish(topic, envelope, options.appender).catch(unavailable(res));
  if (result === undefined) return;
  if (!result.ok) sendJson(res, statusOf(result.issues), {error: result.error, issues: result.issues});
  else sendJson(res, 202, {offset: result.value.offset});
}

/** A publish or read the engine could not serve: 503, saying nothing was stored; other errors propagate. */
function unavailable(res: ServerResponse): (error: unknown) => undefined {
  return (error) => {
    if (!(error instanceof TopicLogUnavailableError)) throw error;
    sendJson(res, 503, {error: `the event store is unavailable: ${error.message}; nothing was stored, try again`}, {'retry-after': '1'});
    return undefined;
  };
}

async function query(res: ServerResponse, url: URL, topic: string, events: EventService): Promise<void> {
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
  const page = await events.log.read(topic, after, limit);
  sendJson(res, 200, {events: page.entries, next: page.next, truncated: page.truncated});
}

/** 403 when a policy refused (any issue is forbidden), 429 when a limit did, 400 for invalid input. */
function statusOf(issues: readonly ValidationIssue[]): number {
  if (issues.some((i) => i.code === FORBIDDEN)) return 403;
  // A limit refused the publish: the client may retry later.
  return issues[0]?.code === TOPIC_LIMIT ? 429 : 400;
}
