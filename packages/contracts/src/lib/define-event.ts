import type {z} from 'zod';

/** What a contract's `type` must look like: dot-separated words, e.g. `order.placed`. */
export const TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** An event states a fact any number of consumers may react to; a command asks exactly one handler to act. */
export type ContractKind = 'event' | 'command';

/**
 * What a late subscriber gets of the past: nothing (`none`), the last event (`last`), or the last
 * `last` events, each only while younger than `ttlMs`.
 */
export type ReplayPolicy = 'none' | 'last' | {readonly last: number; readonly ttlMs?: number};

/**
 * The contract of one version of one event or command type: the schema its `data` must satisfy.
 * Create it with {@link defineEvent}; share it through a contracts package.
 */
export interface Contract<
  Type extends string = string,
  Schema extends z.ZodType = z.ZodType,
  Version extends number = number,
> {
  readonly type: Type;
  readonly version: Version;
  readonly kind: ContractKind;
  readonly schema: Schema;
  readonly description?: string;
  /** What the page bus keeps for late subscribers; `none` when omitted. */
  readonly replay?: ReplayPolicy;
}

/** The type of a contract's `data` as consumers receive it (after parsing). */
export type DataOf<C extends Contract> = z.output<C['schema']>;

/** The type of a contract's `data` as producers write it (before parsing). */
export type InputOf<C extends Contract> = z.input<C['schema']>;

/** What {@link defineEvent} takes. */
export interface ContractDefinition<Type extends string, Schema extends z.ZodType, Version extends number> {
  /** A dotted name, e.g. `order.placed`. */
  readonly type: Type;
  /** The schema version of `data`; 1 when omitted. */
  readonly version?: Version;
  /** `event` (default) or `command`. */
  readonly kind?: ContractKind;
  readonly schema: Schema;
  readonly description?: string;
  /** What the page bus keeps for late subscribers (e.g. the last cart state); none by default. */
  readonly replay?: ReplayPolicy;
}

/**
 * Defines the contract of an event or command type. Types are inferred from the zod schema, so
 * publishing a wrong payload is a compile error.
 *
 * ```ts
 * export const OrderPlaced = defineEvent({
 *   type: 'order.placed',
 *   schema: z.object({orderId: z.string(), sku: z.string(), quantity: z.number().int().positive()}),
 * });
 * ```
 */
export function defineEvent<const Type extends string, Schema extends z.ZodType, const Version extends number = 1>(
  definition: ContractDefinition<Type, Schema, Version>,
): Contract<Type, Schema, Version> {
  if (!TYPE_PATTERN.test(definition.type)) {
    throw new TypeError(`defineEvent: type "${definition.type}" must be a dotted name such as "order.placed"`);
  }
  const version = (definition.version ?? 1) as Version;
  if (!Number.isInteger(version) || version < 1) {
    throw new TypeError(`defineEvent: version of "${definition.type}" must be a positive integer, got ${version}`);
  }
  return Object.freeze({
    type: definition.type,
    version,
    kind: definition.kind ?? 'event',
    schema: definition.schema,
    ...(definition.description === undefined ? {} : {description: definition.description}),
    ...(definition.replay === undefined ? {} : {replay: definition.replay}),
  });
}
