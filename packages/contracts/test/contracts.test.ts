import {ContractRegistry, createEnvelope, defineEvent, type DataOf, type EnvelopeOf} from '@switchboard/contracts';
import {describe, expect, expectTypeOf, it} from 'vitest';
import {z} from 'zod';

const OrderPlaced = defineEvent({
  type: 'order.placed',
  schema: z.object({orderId: z.string(), quantity: z.number().int().positive()}),
});

describe('defineEvent', () => {
  it('defaults to version 1 and kind event, and infers the data type', () => {
    expect(OrderPlaced).toMatchObject({type: 'order.placed', version: 1, kind: 'event'});
    expectTypeOf<DataOf<typeof OrderPlaced>>().toEqualTypeOf<{orderId: string; quantity: number}>();
    expectTypeOf(OrderPlaced.type).toEqualTypeOf<'order.placed'>();
  });

  it('refuses a type that is not a dotted name, and a version that is not a positive integer', () => {
    expect(() => defineEvent({type: 'order placed', schema: z.object({})})).toThrow('must be a dotted name');
    expect(() => defineEvent({type: 'order.placed', version: 0, schema: z.object({})})).toThrow('positive integer');
  });
});

describe('createEnvelope', () => {
  it('fills id, time, source and makes a root its own correlation', () => {
    const e = createEnvelope(OrderPlaced, {orderId: 'o-1', quantity: 1}, {source: 'mfe:order-form'});
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.correlationId).toBe(e.id);
    expect(e.causationId).toBeUndefined();
    expect(Date.parse(e.time)).not.toBeNaN();
    expect(e).toMatchObject({type: 'order.placed', version: 1, source: 'mfe:order-form'});
    expectTypeOf(e).toEqualTypeOf<EnvelopeOf<typeof OrderPlaced>>();
  });

  it('carries the correlation of its parent and names the parent as its cause', () => {
    const parent = createEnvelope(OrderPlaced, {orderId: 'o-1', quantity: 1}, {source: 'a'});
    const child = createEnvelope(OrderPlaced, {orderId: 'o-1', quantity: 2}, {source: 'b', parent});
    expect(child.correlationId).toBe(parent.correlationId);
    expect(child.causationId).toBe(parent.id);
  });

  it('types data: a wrong payload does not compile', () => {
    // @ts-expect-error quantity must be a number
    createEnvelope(OrderPlaced, {orderId: 'o-1', quantity: 'two'}, {source: 'x'});
    // @ts-expect-error orderId is required
    createEnvelope(OrderPlaced, {quantity: 2}, {source: 'x'});
  });
});

describe('ContractRegistry', () => {
  const registry = new ContractRegistry().register(OrderPlaced);
  const valid = () => createEnvelope(OrderPlaced, {orderId: 'o-1', quantity: 1}, {source: 'test'});

  it('accepts a valid envelope and returns its parsed copy', () => {
    const envelope = valid();
    expect(registry.validate(envelope)).toEqual({ok: true, value: envelope});
  });

  it('lists every envelope problem with its path', () => {
    const result = registry.validate({type: 'order.placed', version: 1.5, time: 'yesterday', data: {}});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual(['correlationId', 'id', 'source', 'time', 'version']);
  });

  it('names unknown types and versions', () => {
    expect(registry.validate({...valid(), type: 'order.lost'})).toMatchObject({ok: false, error: expect.stringMatching(/^unknown event type/)});
    expect(registry.validate({...valid(), version: 2})).toMatchObject({
      ok: false,
      issues: [{path: 'version', message: '"order.placed" has no version 2'}],
    });
  });

  it('validates data against the contract, with paths under data', () => {
    expect(registry.validate({...valid(), data: {orderId: 'o-1', quantity: -1}})).toMatchObject({
      ok: false,
      issues: [{path: 'data.quantity'}],
    });
  });

  it('accepts a copy of a contract with the same shape and refuses an incompatible one at registration', () => {
    const copy = defineEvent({type: 'order.placed', schema: z.object({orderId: z.string(), quantity: z.number().int().positive()})});
    expect(() => new ContractRegistry().register(OrderPlaced, copy)).not.toThrow();
    const other = defineEvent({type: 'order.placed', schema: z.object({orderId: z.number()})});
    expect(() => new ContractRegistry().register(OrderPlaced, other)).toThrow('already registered with a different schema');
    const command = defineEvent({type: 'order.placed', kind: 'command', schema: OrderPlaced.schema});
    expect(() => new ContractRegistry().register(OrderPlaced, command)).toThrow('different kind');
  });

  it('returns the latest version when none is asked for', () => {
    const v2 = defineEvent({type: 'order.placed', version: 2, schema: z.object({orderId: z.string()})});
    const r = new ContractRegistry().register(v2, OrderPlaced);
    expect(r.get('order.placed')).toBe(v2);
    expect(r.get('order.placed', 1)).toBe(OrderPlaced);
  });
});

describe('newId', () => {
  it('makes RFC 4122 version 4 UUIDs, all different, across pool refills', async () => {
    const {newId} = await import('@switchboard/contracts');
    const ids = Array.from({length: 2000}, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(2000);
  });
});
