import {asyncApi, ContractRegistry, defineEvent, jsonSchemas} from '@switchboard/contracts';
import {describe, expect, it} from 'vitest';
import {z} from 'zod';

const PlacedV1 = defineEvent({type: 'order.placed', description: 'A customer placed an order.', schema: z.object({orderId: z.string(), quantity: z.number().int().positive()})});
const PlacedV2 = defineEvent({type: 'order.placed', version: 2, schema: z.object({orderId: z.string(), lines: z.array(z.string())})});
const Place = defineEvent({type: 'order.place', kind: 'command', schema: z.object({sku: z.string()})});
const registry = new ContractRegistry().register(PlacedV1, PlacedV2, Place);

describe('the catalog', () => {
  it('exports each contract version as JSON Schema', () => {
    const schemas = jsonSchemas(registry);
    expect(Object.keys(schemas).sort()).toEqual(['order.place.v1', 'order.placed.v1', 'order.placed.v2']);
    expect(schemas['order.placed.v1']).toMatchObject({
      type: 'object',
      properties: {orderId: {type: 'string'}, quantity: {type: 'integer', exclusiveMinimum: 0}},
      required: ['orderId', 'quantity'],
    });
  });

  it('exports an AsyncAPI 3 document: a channel per type, a message per version, the envelope as headers', () => {
    const doc = asyncApi(registry, {title: 'Shop', version: '1.0.0'}) as {
      asyncapi: string;
      channels: Record<string, {address: string; messages: Record<string, {$ref: string}>}>;
      operations: Record<string, {action: string; channel: {$ref: string}}>;
      components: {messages: Record<string, {name: string; summary?: string; headers: {required: string[]}; payload: unknown; 'x-switchboard-kind': string}>};
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.channels['order_placed']).toEqual({
      address: 'order.placed',
      messages: {
        order_placed_v1: {$ref: '#/components/messages/order_placed_v1'},
        order_placed_v2: {$ref: '#/components/messages/order_placed_v2'},
      },
    });
    expect(doc.operations['send_order_placed']).toMatchObject({action: 'send', channel: {$ref: '#/channels/order_placed'}});
    const v1 = doc.components.messages['order_placed_v1']!;
    expect(v1).toMatchObject({name: 'order.placed.v1', summary: 'A customer placed an order.', 'x-switchboard-kind': 'event'});
    expect(v1.headers.required).toEqual(expect.arrayContaining(['id', 'type', 'version', 'time', 'source', 'correlationId']));
    expect(doc.components.messages['order_place_v1']!['x-switchboard-kind']).toBe('command');
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/"#\/[^"]+"/g) ?? [];
    for (const ref of refs) {
      const path = ref.slice(3, -1).split('/');
      let node: unknown = doc;
      for (const key of path) node = (node as Record<string, unknown>)[key];
      expect(node, ref).toBeDefined();
    }
  });
});
