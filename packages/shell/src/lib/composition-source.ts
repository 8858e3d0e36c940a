import {COMPOSITION_ELEMENT_ID, COMPOSITION_PATH, compositionSchema, type Composition} from '@switchboard/contracts';

/** Where a composition came from. */
export type CompositionOrigin = 'inline' | 'composition' | 'manifest' | 'given';

/** A composition and where it was read. */
export interface LoadedComposition {
  readonly composition: Composition;
  readonly origin: CompositionOrigin;
}

/** Options of {@link loadComposition}. */
export interface CompositionSourceOptions {
  /** The document to look in for the inline element; default `document`. */
  readonly document?: Document;
  /** Where to fetch it when the page carries none; default `/composition.json`. */
  readonly compositionUrl?: string;
  /** The older manifest, tried last; default `/manifest.json`. */
  readonly manifestUrl?: string;
  /** Skip the inline element (re-reading after a deploy: the page's copy is the old one). */
  readonly skipInline?: boolean;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
}

/** The composition could not be read from any source; `attempts` says what failed where. */
export class CompositionError extends Error {
  override readonly name = 'CompositionError';
  constructor(readonly attempts: readonly string[]) {
    super(`the page's apps could not be loaded: ${attempts.join('; ')}`);
  }
}

/**
 * Turns what a source answered into a {@link Composition}: a composition as is; today's manifest
 * (apps with name/title/tag/module/standalone/requires/publishes) with version `0.0.0` where it has
 * none, and `revision` the response's ETag or `static`. Throws a message naming what is wrong.
 */
export function toComposition(body: unknown, revision: string): Composition {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as {revision?: unknown; apps?: unknown};
  if (!Array.isArray(raw.apps)) throw new Error('"apps" must be an array');
  const filled = {
    ...raw,
    revision: typeof raw.revision === 'string' && raw.revision !== '' ? raw.revision : revision,
    apps: raw.apps.map((app: unknown) =>
      typeof app === 'object' && app !== null
        ? {version: '0.0.0', ...app, title: (app as {title?: unknown}).title ?? (app as {name?: unknown}).name}
        : app,
    ),
  };
  const parsed = compositionSchema.safeParse(filled);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Reads the page's composition: the inline `<script type="application/json" id="switchboard-composition">`
 * when the server put one in the page, else `GET /composition.json`, else `GET /manifest.json`.
 * Rejects with {@link CompositionError} listing every source's failure; it does not retry (see
 * {@link createShell}, which shows an error page and retries with backoff).
 */
export async function loadComposition(options: CompositionSourceOptions = {}): Promise<LoadedComposition> {
  const attempts: string[] = [];
  const doc = options.document ?? (typeof document === 'undefined' ? undefined : document);
  const inline = options.skipInline === true ? null : doc?.getElementById(COMPOSITION_ELEMENT_ID);
  if (inline != null) {
    try {
      return {composition: toComposition(JSON.parse(inline.textContent ?? ''), 'inline'), origin: 'inline'};
    } catch (error) {
      attempts.push(`#${COMPOSITION_ELEMENT_ID}: ${(error as Error).message}`);
    }
  }
  const get = options.fetch ?? fetch;
  const sources: Array<[string, CompositionOrigin]> = [
    [options.compositionUrl ?? COMPOSITION_PATH, 'composition'],
    [options.manifestUrl ?? '/manifest.json', 'manifest'],
  ];
  for (const [url, origin] of sources) {
    try {
      const response = await get(url, {cache: 'no-cache', headers: {accept: 'application/json'}, ...(options.signal === undefined ? {} : {signal: options.signal})});
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      const body: unknown = await response.json();
      return {composition: toComposition(body, response.headers.get('etag') ?? 'static'), origin};
    } catch (error) {
      if (options.signal?.aborted) throw error;
      attempts.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new CompositionError(attempts);
}
