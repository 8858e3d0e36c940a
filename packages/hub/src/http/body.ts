import type {IncomingMessage} from 'node:http';

/** Thrown by {@link readBody} when the body is larger than allowed. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * Thrown by {@link readBody} when the client went away (or was cut by the body timeout) before the
 * body ended: a client's fault, logged as one quiet line, never with a stack.
 */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
  constructor() {
    super('the request was aborted before its body ended');
  }
}

/** Default of `drainLimit` in {@link readBody}: 16 MB. */
export const DEFAULT_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads a request body up to `limit` bytes; a larger one throws {@link BodyTooLargeError} without
 * being kept (a declared Content-Length over the limit is refused before a byte is kept).
 *
 * Before it throws, the rest of the body is read and discarded, up to `drainLimit` bytes: a
 * server that answers and closes while the client is still sending makes the client's TCP stack
 * see a reset, and `fetch` reports "fetch failed" instead of the 413. Past `drainLimit` it stops
 * waiting (the answer may then be lost to a reset, but the server spends nothing more).
 */
export function readBody(req: IncomingMessage, limit: number, drainLimit = DEFAULT_DRAIN_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let refusal: BodyTooLargeError | undefined =
      Number.isFinite(declared) && declared > limit ? new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`) : undefined;
    const finish = (error?: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (error !== undefined) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (refusal === undefined && size > limit) {
        refusal = new BodyTooLargeError(`body exceeds ${limit} bytes`);
        chunks.length = 0;
      }
      // Refused: keep reading, keep nothing, and give up waiting past the drain bound.
      if (refusal !== undefined) {
        if (size > drainLimit) finish(refusal);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(refusal);
    const onError = (): void => finish(refusal ?? new RequestAbortedError());
    const onClose = (): void => finish(refusal ?? new RequestAbortedError());
    if (refusal !== undefined && Number.isFinite(declared) && declared > drainLimit) {
      // Too large to drain: answer now.
      req.resume();
      return finish(refusal);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
