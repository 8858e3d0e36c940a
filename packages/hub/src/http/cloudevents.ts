import type {IncomingHttpHeaders} from 'node:http';
import {invalid, type ValidationIssue, type ValidationResult} from '@switchboard/contracts';

/**
 * CloudEvents 1.0 → Switchboard envelope. The context attributes map to envelope fields; three
 * extension attributes carry what CloudEvents has no name for: `dataversion` (the contract version,
 * default 1), `correlationid` (default: the event's id) and `causationid`. `time` defaults to now.
 * Only JSON data is accepted (`datacontenttype` absent or `application/json`; no `data_base64`).
 * The result still has to pass the contract, like any envelope.
 */
export function fromCloudEvent(input: unknown): ValidationResult<Record<string, unknown>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return invalid('invalid CloudEvent', [{path: '', message: 'must be a JSON object'}]);
  }
  const ce = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  if (ce['specversion'] !== '1.0') issues.push({path: 'specversion', message: 'must be "1.0"'});
  for (const key of ['id', 'source', 'type'] as const) {
    if (typeof ce[key] !== 'string' || ce[key] === '') issues.push({path: key, message: 'must be a non-empty string'});
  }
  const contentType = ce['datacontenttype'];
  if (contentType !== undefined && !(typeof contentType === 'string' && /^application\/(.+\+)?json\b/.test(contentType))) {
    issues.push({path: 'datacontenttype', message: 'only JSON data is accepted'});
  }
  if ('data_base64' in ce) issues.push({path: 'data_base64', message: 'binary data is not accepted; send JSON data'});
  const version = ce['dataversion'] === undefined ? 1 : Number(ce['dataversion']);
  if (!Number.isInteger(version) || version < 1) issues.push({path: 'dataversion', message: 'must be a positive integer'});
  if (issues.length > 0) return invalid('invalid CloudEvent', issues);
  const id = ce['id'] as string;
  const causationId = ce['causationid'];
  return {
    ok: true,
    value: {
      id,
      type: ce['type'],
      version,
      time: ce['time'] ?? new Date().toISOString(),
      source: ce['source'],
      correlationId: ce['correlationid'] ?? id,
      ...(causationId === undefined ? {} : {causationId}),
      data: ce['data'],
    },
  };
}

/** Whether a request carries a CloudEvent in binary mode (its attributes as `ce-*` headers). */
export function isBinaryCloudEvent(headers: IncomingHttpHeaders): boolean {
  return headers['ce-specversion'] !== undefined;
}

/** The structured form of a binary-mode CloudEvent: `ce-*` headers as attributes, the body as data. */
export function binaryCloudEvent(headers: IncomingHttpHeaders, data: unknown): Record<string, unknown> {
  const ce: Record<string, unknown> = {data, datacontenttype: headers['content-type']};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') ce[name.slice(3)] = value;
  }
  return ce;
}
