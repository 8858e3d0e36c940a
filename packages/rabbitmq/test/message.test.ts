import {describe, expect, it} from 'vitest';
import {decodeMessage, TOO_LARGE} from '../src/index.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeMessage: an AMQP message as an envelope candidate (no I/O)', () => {
  it('reads a JSON envelope as is, with or without a content type', () => {
    const envelope = {id: 'e1', type: 'stock.changed'};
    expect(decodeMessage({content: json(envelope), contentType: 'application/json'}, 1000)).toEqual({ok: true, value: envelope});
    expect(decodeMessage({content: json(envelope)}, 1000)).toEqual({ok: true, value: envelope});
  });

  it('maps a structured CloudEvent and a binary one (cloudEvents_ and cloudEvents: headers, Buffer values) to the same envelope', () => {
    const attributes = {specversion: '1.0', id: 'ce-1', source: 'svc', type: 'stock.changed', correlationid: 'flow', dataversion: 2};
    const data = {sku: 'tea', available: 1};
    const structured = decodeMessage({content: json({...attributes, time: '2026-01-01T00:00:00Z', data}), contentType: 'application/cloudevents+json; charset=utf-8'}, 1000);
    const binary = decodeMessage(
      {
        content: json(data),
        contentType: 'application/json',
        headers: {'cloudEvents_specversion': '1.0', 'cloudEvents:id': Buffer.from('ce-1'), 'cloudEvents_source': 'svc', 'cloudEvents_type': 'stock.changed', 'cloudEvents_correlationid': 'flow', 'cloudEvents_dataversion': 2, 'cloudEvents_time': '2026-01-01T00:00:00Z', 'other': 'ignored'},
      },
      1000,
    );
    const expected = {id: 'ce-1', type: 'stock.changed', version: 2, time: '2026-01-01T00:00:00Z', source: 'svc', correlationId: 'flow', data};
    expect(structured).toEqual({ok: true, value: expected});
    expect(binary).toEqual({ok: true, value: expected});
  });

  it('refuses what cannot be an event, with a reason', () => {
    const refused = (result: ReturnType<typeof decodeMessage>) => (result.ok ? 'accepted' : result.error);
    expect(refused(decodeMessage({content: Buffer.from('{nope')}, 1000))).toMatch(/not valid JSON/);
    expect(refused(decodeMessage({content: json({}), contentType: 'text/plain'}, 1000))).toMatch(/unsupported content type "text\/plain"/);
    expect(refused(decodeMessage({content: json({specversion: '1.0', id: 'x', source: 's', type: 't', data_base64: 'AA=='}), contentType: 'application/cloudevents+json'}, 1000))).toMatch(/invalid CloudEvent/);
    expect(refused(decodeMessage({content: json({a: 1}), headers: {cloudEvents_specversion: '1.0'}}, 1000))).toMatch(/invalid CloudEvent/);
    const large = decodeMessage({content: Buffer.alloc(2001, 32)}, 2000);
    expect(large.ok ? undefined : large.issues[0]?.code).toBe(TOO_LARGE);
  });
});
