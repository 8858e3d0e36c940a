/** Thrown by {@link readBody} when the body is larger than allowed. */
export class BodyTooLargeError extends Error {
    name = 'BodyTooLargeError';
}
/**
 * Reads a request body up to `limit` bytes. Stops reading as soon as the limit is passed (a declared
 * Content-Length over it fails before a byte is read), so an oversized body costs no memory.
 */
export async function readBody(req, limit) {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit)
        throw new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`);
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > limit)
            throw new BodyTooLargeError(`body exceeds ${limit} bytes`);
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}
