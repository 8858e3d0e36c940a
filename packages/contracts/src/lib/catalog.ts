import {z} from 'zod';
import type {Contract} from './define-event.js';
import {envelopeSchema} from './envelope.js';
import type {ContractRegistry} from './registry.js';

/** A JSON Schema document, as zod writes it. */
export type JsonSchema = Record<string, unknown>;

/** The id of a contract in a catalog: `order.placed.v1`. */
export function contractId(contract: Pick<Contract, 'type' | 'version'>): string {
  return `${contract.type}.v${contract.version}`;
}

/** The JSON Schema of every contract's `data`, by {@link contractId}. */
export function jsonSchemas(registry: ContractRegistry): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const contract of registry.contracts()) schemas[contractId(contract)] = toJsonSchema(contract.schema);
  return schemas;
}

/** What an AsyncAPI document says about the application it describes. */
export interface AsyncApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

/**
 * The registry as an AsyncAPI 3.0 document: one channel per event type (its address is the type),
 * one message per version with the envelope as headers and `data` as payload, and a `send`
 * operation per channel. Teams read it to see what exists; tools generate code from it.
 */
export function asyncApi(registry: ContractRegistry, info: AsyncApiInfo): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const byType = new Map<string, Contract[]>();
  for (const c of registry.contracts()) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  const {data: _data, ...envelopeFields} = envelopeSchema.shape;
  const headers = toJsonSchema(z.object(envelopeFields));
  for (const [type, versions] of byType) {
    const channelId = type.replaceAll('.', '_');
    const refs: Record<string, unknown> = {};
    for (const contract of versions) {
      const id = contractId(contract).replaceAll('.', '_');
      messages[id] = {
        name: contractId(contract),
        title: `${type} version ${contract.version}`,
        ...(contract.description === undefined ? {} : {summary: contract.description}),
        contentType: 'application/json',
        headers,
        payload: toJsonSchema(contract.schema),
        'x-switchboard-kind': contract.kind,
      };
      refs[id] = {$ref: `#/components/messages/${id}`};
    }
    channels[channelId] = {address: type, messages: refs};
    operations[`send_${channelId}`] = {
      action: 'send',
      channel: {$ref: `#/channels/${channelId}`},
      messages: Object.keys(refs).map((id) => ({$ref: `#/channels/${channelId}/messages/${id}`})),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {title: info.title, version: info.version, ...(info.description === undefined ? {} : {description: info.description})},
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {messages},
  };
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  // `io: 'input'` describes what producers must send, which is what a catalog is read for.
  return z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any'}) as JsonSchema;
}
