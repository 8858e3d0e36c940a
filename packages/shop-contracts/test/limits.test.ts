import {createEnvelope} from '@switchboard/contracts';
import {describe, expect, it} from 'vitest';
import type {z} from 'zod';
import {MetricsAlert, shopContracts, shopRegistry} from '../src/index.js';

/** The longest string a shop contract may admit anywhere. */
const LONGEST = 1000;

/** Paths of every string or array in `schema` without a `.max()` at or under LONGEST. */
function unbounded(schema: z.ZodType, path: string): string[] {
  const def = (schema as unknown as {_zod: {def: {type: string}}})._zod.def as {type: string} & Record<string, unknown>;
  const checks = (def['checks'] ?? []) as Array<{_zod: {def: {check: string; maximum?: number}}}>;
  const bag = {maximum: Math.min(...checks.filter((c) => c._zod.def.check === 'max_length').map((c) => c._zod.def.maximum!))};
  switch (def.type) {
    case 'string':
      return (bag.maximum ?? Infinity) <= LONGEST ? [] : [path];
    case 'object':
      return Object.entries(def['shape'] as Record<string, z.ZodType>).flatMap(([k, v]) => unbounded(v, `${path}.${k}`));
    case 'array':
      return [...((bag.maximum ?? Infinity) <= LONGEST ? [] : [`${path}[]`]), ...unbounded(def['element'] as z.ZodType, `${path}[]`)];
    case 'optional':
    case 'nullable':
    case 'default':
      return unbounded(def['innerType'] as z.ZodType, path);
    case 'number':
    case 'int':
    case 'boolean':
    case 'enum':
    case 'literal':
      return [];
    default:
      return [`${path} (${def.type}: not checked)`];
  }
}

describe('shop contracts', () => {
  it('bound every string and array, so no event admits a 60 KB field', () => {
    const found = shopContracts.flatMap((c) => unbounded(c.schema, c.type));
    expect(found).toEqual([]);
  });

  it('refuse a 60 KB metrics.alert kind', () => {
    const envelope = createEnvelope(MetricsAlert, {kind: 'x', count: 1, windowMs: 1000}, {source: 'test'});
    const result = shopRegistry().validate({...envelope, data: {...envelope.data, kind: 'k'.repeat(60_000)}});
    expect(result.ok).toBe(false);
  });
});
