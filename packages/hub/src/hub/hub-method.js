const UPLOAD = Symbol('switchboard.upload-stream');
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
export function uploadStream(item) {
    return { [UPLOAD]: true, item };
}
/** Whether a parameter is an upload stream. */
export function isUploadStream(param) {
    return typeof param === 'object' && param !== null && UPLOAD in param;
}
/** Builds a {@link RegisteredMethod}. */
export function registered(name, streaming, params, handler) {
    const names = Object.keys(params);
    return {
        name,
        streaming,
        params,
        argumentNames: names.filter((n) => !isUploadStream(params[n])),
        streamNames: names.filter((n) => isUploadStream(params[n])),
        handler,
    };
}
/**
 * Validates an invocation's plain arguments against the method's parameters. Returns the parsed
 * values by name, or a message naming what is wrong (count, or the parameter and the zod issue).
 */
export function parseArguments(method, args, streamIds) {
    const names = method.argumentNames;
    if (args.length !== names.length) {
        return { error: `'${method.name}' takes ${names.length} argument(s) (${names.join(', ')}) but was given ${args.length}.` };
    }
    if (streamIds.length !== method.streamNames.length) {
        return { error: `'${method.name}' takes ${method.streamNames.length} stream(s) but was given ${streamIds.length}.` };
    }
    const value = {};
    for (let i = 0; i < args.length; i++) {
        const name = names[i];
        const parsed = method.params[name].safeParse(args[i]);
        if (!parsed.success) {
            const issue = parsed.error.issues[0];
            const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
            return { error: `Invalid argument '${name}' of '${method.name}'${where}: ${issue?.message ?? 'invalid'}.` };
        }
        value[name] = parsed.data;
    }
    return { value };
}
