import type {z} from 'zod';
import type {ClientProxy} from './clients.js';
import type {HubConnection} from './hub-connection.js';
import type {Hub} from './hub.js';

const UPLOAD = Symbol('switchboard.upload-stream');

/** A parameter that is a client-to-server stream of items, each validated by `item`. */
export interface UploadStreamParam<T extends z.ZodType = z.ZodType> {
  readonly [UPLOAD]: true;
  readonly item: T;
}

/**
 * Declares a parameter as a client-to-server stream: the client passes a `Subject`, the method gets
 * an `AsyncIterable` of validated items.
 *
 * ```ts
 * hub.method('sum', {params: {numbers: uploadStream(z.number())}, handler: async ({numbers}) => {
 *   let total = 0;
 *   for await (const n of numbers) total += n;
 *   return total;
 * }});
 * ```
 */
export function uploadStream<T extends z.ZodType>(item: T): UploadStreamParam<T> {
  return {[UPLOAD]: true, item};
}

/** Whether a parameter is an upload stream. */
export function isUploadStream(param: HubParam): param is UploadStreamParam {
  return typeof param === 'object' && param !== null && UPLOAD in param;
}

/** One parameter: a zod schema, or an upload stream of items. */
export type HubParam = z.ZodType | UploadStreamParam;

/** The parameters of a hub method, in call order: name → schema. */
export type HubParams = Readonly<Record<string, HubParam>>;

/** The parsed arguments of a hub method, by parameter name. */
export type HubArgs<P extends HubParams> = {
  [K in keyof P]: P[K] extends UploadStreamParam<infer T> ? AsyncIterable<z.output<T>> : P[K] extends z.ZodType ? z.output<P[K]> : never;
};

/** The clients an invocation can address relative to its caller. */
export interface CallerClients {
  /** The calling connection. */
  readonly caller: ClientProxy;
  /** Every connection but the caller. */
  readonly others: ClientProxy;
  /** Every connection in `group` but the caller. */
  othersInGroup(group: string): ClientProxy;
}

/** What a hub method's handler gets besides its arguments. */
export interface InvocationContext {
  readonly hub: Hub;
  /** The calling connection. */
  readonly caller: HubConnection;
  readonly clients: CallerClients;
  /** The method's name as registered. */
  readonly method: string;
  /** Aborted when the client cancels a stream or disconnects. */
  readonly signal: AbortSignal;
}

/** A hub method: its parameters (validated before the handler runs) and its handler. */
export interface HubMethod<P extends HubParams> {
  readonly params: P;
  /** Returns the invocation's result (awaited); throw `HubError` to fail it with a message. */
  readonly handler: (args: HubArgs<P>, context: InvocationContext) => unknown;
}

/** A server-to-client streaming method: its handler returns the items as an async iterable. */
export interface HubStreamMethod<P extends HubParams, T> {
  readonly params: P;
  /** Produces the items; stop when `context.signal` aborts (the client cancelled). */
  readonly handler: (args: HubArgs<P>, context: InvocationContext) => AsyncIterable<T> | Iterable<T>;
}

/**
 * Runs around every invocation, outermost first: logging, authorization, metrics. Call `next()` to
 * go on; throw `HubError` to refuse.
 */
export type HubFilter = (invocation: {readonly args: Readonly<Record<string, unknown>>; readonly context: InvocationContext}, next: () => Promise<unknown>) => Promise<unknown>;

/** A method as the hub keeps it. */
export interface RegisteredMethod {
  readonly name: string;
  readonly streaming: boolean;
  readonly params: HubParams;
  /** Parameter names that are plain arguments, in order. */
  readonly argumentNames: readonly string[];
  /** Parameter names that are upload streams, in order (matching the invocation's streamIds). */
  readonly streamNames: readonly string[];
  readonly handler: (args: Record<string, unknown>, context: InvocationContext) => unknown;
}

/** Builds a {@link RegisteredMethod}. */
export function registered(name: string, streaming: boolean, params: HubParams, handler: RegisteredMethod['handler']): RegisteredMethod {
  const names = Object.keys(params);
  return {
    name,
    streaming,
    params,
    argumentNames: names.filter((n) => !isUploadStream(params[n]!)),
    streamNames: names.filter((n) => isUploadStream(params[n]!)),
    handler,
  };
}

/**
 * Validates an invocation's plain arguments against the method's parameters. Returns the parsed
 * values by name, or a message naming what is wrong (count, or the parameter and the zod issue).
 */
export function parseArguments(
  method: RegisteredMethod,
  args: readonly unknown[],
  streamIds: readonly string[],
): {value: Record<string, unknown>} | {error: string} {
  const names = method.argumentNames;
  if (args.length !== names.length) {
    return {error: `'${method.name}' takes ${names.length} argument(s) (${names.join(', ')}) but was given ${args.length}.`};
  }
  if (streamIds.length !== method.streamNames.length) {
    return {error: `'${method.name}' takes ${method.streamNames.length} stream(s) but was given ${streamIds.length}.`};
  }
  const value: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const name = names[i]!;
    const parsed = (method.params[name] as z.ZodType).safeParse(args[i]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      return {error: `Invalid argument '${name}' of '${method.name}'${where}: ${issue?.message ?? 'invalid'}.`};
    }
    value[name] = parsed.data;
  }
  return {value};
}
