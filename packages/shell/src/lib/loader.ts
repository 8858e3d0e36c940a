import type {CompositionApp} from '@switchboard/contracts';

/** How a module that fails to load is retried. */
export interface RetryPolicy {
  /** Tries per variant, the first included; default 3. */
  readonly attempts?: number;
  /** Wait before the first retry; doubled each time; default 300 ms. */
  readonly delayMs?: number;
  /** Longest wait between tries; default 5,000 ms. */
  readonly maxDelayMs?: number;
}

/** Defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY: Required<RetryPolicy> = {attempts: 3, delayMs: 300, maxDelayMs: 5000};

/** What {@link loadApp} reports as it goes, for the slot's loading content and for logs. */
export type LoadStep =
  | {readonly kind: 'attempt'; readonly variant: 'module' | 'standalone'; readonly attempt: number; readonly url: string}
  | {readonly kind: 'failed'; readonly variant: 'module' | 'standalone'; readonly attempt: number; readonly error: unknown; readonly retryInMs: number | null};

/** Imports a module (dynamic `import()`); injectable for tests. */
export type ModuleImporter = (url: string) => Promise<unknown>;

const nativeImport: ModuleImporter = (url) => import(/* @vite-ignore */ url);

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, {once: true});
  });
}

/**
 * A URL for the n-th try: the first is the URL itself; later ones carry `sb-retry=n`, since a
 * browser may keep a failed module fetch in its module map and answer the same URL with the same
 * failure without asking the network again.
 */
export function retryUrl(url: string, attempt: number): string {
  if (attempt <= 1) return url;
  return `${url}${url.includes('?') ? '&' : '?'}sb-retry=${attempt}`;
}

/**
 * Only a fetch or parse failure (a `TypeError` from `import()`) is worth another try of the same
 * module; an error the module threw while running would only be thrown again.
 */
function retriable(error: unknown): boolean {
  return error instanceof TypeError;
}

async function importVariant(
  url: string,
  variant: 'module' | 'standalone',
  retry: Required<RetryPolicy>,
  importer: ModuleImporter,
  report: (step: LoadStep) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const tried = retryUrl(url, attempt);
    report({kind: 'attempt', variant, attempt, url: tried});
    try {
      await importer(tried);
      return;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const again = attempt < retry.attempts && retriable(error);
      const wait = again ? Math.min(retry.maxDelayMs, retry.delayMs * 2 ** (attempt - 1)) : null;
      report({kind: 'failed', variant, attempt, error, retryInMs: wait});
      if (wait === null) throw error;
      await abortable(wait, signal);
    }
  }
}

/**
 * Loads an app's module so its element is defined: the shared variant (`module`), retried with
 * backoff; when it still fails, or runs but defines no `<tag>`, the standalone variant the same
 * way; then gives up with the last error. A signal abandons the load (a route left meanwhile).
 */
export async function loadApp(
  app: Pick<CompositionApp, 'name' | 'tag' | 'module' | 'standalone'>,
  options: {retry?: RetryPolicy; importer?: ModuleImporter; onStep?: (step: LoadStep) => void; signal?: AbortSignal; registry?: CustomElementRegistry} = {},
): Promise<'module' | 'standalone'> {
  const retry = {...DEFAULT_RETRY, ...options.retry};
  const importer = options.importer ?? nativeImport;
  const report = options.onStep ?? (() => {});
  const registry = options.registry ?? customElements;
  const defined = (): void => {
    if (registry.get(app.tag) === undefined) throw new Error(`the module defines no <${app.tag}>`);
  };
  let first: unknown;
  try {
    await importVariant(app.module, 'module', retry, importer, report, options.signal);
    defined();
    return 'module';
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    first = error;
  }
  if (app.standalone === undefined || app.standalone === app.module) throw first;
  await importVariant(app.standalone, 'standalone', retry, importer, report, options.signal);
  defined();
  return 'standalone';
}

/** Module URLs already hinted, so each gets one `<link rel="modulepreload">`. */
const hinted = new Set<string>();

/**
 * Adds `<link rel="modulepreload" href="url">` to the document's head once per URL, so the browser
 * fetches (and parses) a module the next route will need before it is imported.
 */
export function preloadModule(url: string, doc: Document = document): void {
  if (hinted.has(url)) return;
  hinted.add(url);
  const link = doc.createElement('link');
  link.rel = 'modulepreload';
  link.href = url;
  doc.head.append(link);
}
