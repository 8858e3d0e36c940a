import {fromCloudEvent} from '@switchboard/hub';
import {invalid, type ValidationResult} from '@switchboard/contracts';

/** What the ingest reads of an AMQP message: its body and the properties that say how to read it. */
export interface IncomingMessage {
  readonly content: Buffer;
  readonly contentType?: string | undefined;
  /** AMQP 0-9-1 headers (the application properties of the CloudEvents AMQP binding). */
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
}

/** Media type of a structured-mode CloudEvent. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/**
 * Prefixes of the CloudEvents AMQP binding's application properties in binary mode: `cloudEvents_`
 * is the spec's (it names `cloudEvents:` too, which some SDKs send).
 */
const CE_PREFIXES = ['cloudEvents_', 'cloudEvents:'] as const;

/** The issue code of a message larger than the binding's `maxMessageBytes`. */
export const TOO_LARGE = 'too_large';

/**
 * Reads one AMQP message as an envelope candidate, without I/O: a JSON envelope
 * (`application/json` or no content type), a structured CloudEvent (`application/cloudevents+json`)
 * or a binary-mode CloudEvent (its attributes as `cloudEvents_*` headers, the body as JSON data).
 * CloudEvents map to envelopes as the HTTP ingest maps them. The result still has to pass the
 * registry and the topic's policy.
 */
export function decodeMessage(message: IncomingMessage, maxBytes: number): ValidationResult<unknown> {
  if (message.content.length > maxBytes) {
    return invalid(`message too large: ${message.content.length} bytes, the limit is ${maxBytes}`, [{path: '', message: `at most ${maxBytes} bytes`, code: TOO_LARGE}]);
  }
  const mediaType = (message.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const attributes = binaryAttributes(message.headers);
  if (attributes === undefined && mediaType !== '' && mediaType !== CLOUDEVENTS_JSON && !isJson(mediaType)) {
    return invalid(`unsupported content type "${mediaType}": send application/json (an envelope) or ${CLOUDEVENTS_JSON}`, [{path: 'contentType', message: 'must be JSON'}]);
  }
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch {
    return invalid('body is not valid JSON', [{path: '', message: 'not JSON'}]);
  }
  if (attributes !== undefined) {
    return fromCloudEvent({...attributes, data: body, ...(mediaType === '' ? {} : {datacontenttype: mediaType})});
  }
  if (mediaType === CLOUDEVENTS_JSON) return fromCloudEvent(body);
  return {ok: true, value: body};
}

/** The CloudEvent attributes of a binary-mode message, or undefined when it has none. */
export function binaryAttributes(headers: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (headers === undefined || headers === null) return undefined;
  let attributes: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const prefix = CE_PREFIXES.find((p) => name.startsWith(p));
    if (prefix === undefined) continue;
    attributes ??= {};
    attributes[name.slice(prefix.length)] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  }
  return attributes;
}

function isJson(mediaType: string): boolean {
  return /^application\/(.+\+)?json$/.test(mediaType);
}
