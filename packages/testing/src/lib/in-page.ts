/**
 * Code that runs inside the page (passed to `page.addInitScript` / `page.evaluate`), so it is
 * self-contained: no imports, no closures over Node values. It hooks the page bus the moment a
 * bundle installs it under its shared `globalThis` key, whichever bundle and however late.
 */

/** The `exposeFunction` name records reach Node through. */
export const RECORD_BINDING = '__switchboardTestingRecord';

/** A trace record as it crosses from the page: plain JSON. */
export interface RecordFromPage {
  readonly envelope?: {readonly type: string; readonly id: string; readonly [key: string]: unknown};
  readonly type: string;
  readonly source: string;
  readonly origin: string;
  readonly outcome: string;
  readonly error?: string;
  readonly issues?: ReadonlyArray<{readonly path: string; readonly message: string}>;
}

/** Installed before any page script: reports every trace record of the page bus to Node. */
export function hookPageBus(binding: string): void {
  type Traced = {onTrace(listener: (record: unknown) => void): () => void; inspect(): readonly unknown[]};
  const key = Symbol.for('switchboard.page-bus');
  const g = globalThis as unknown as Record<string | symbol, unknown>;
  const queue: string[] = [];
  const send = (record: unknown) => {
    // JSON keeps only what crosses to Node anyway, and drops anything a handler attached.
    queue.push(JSON.stringify(record));
    const report = g[binding] as ((json: string) => Promise<void>) | undefined;
    if (typeof report !== 'function') return;
    for (const json of queue.splice(0)) void report(json);
  };
  const hook = (bus: Traced) => {
    for (const record of bus.inspect()) send(record);
    bus.onTrace(send);
  };
  let current = g[key] as Traced | undefined;
  if (current !== undefined) hook(current);
  Object.defineProperty(g, key, {
    configurable: true,
    enumerable: false,
    get: () => current,
    set: (bus: Traced | undefined) => {
      if (bus === current) return;
      current = bus;
      if (bus !== undefined) hook(bus);
    },
  });
}

/** Runs in the page: hands `envelope` to the page bus as if it had arrived from outside. */
export function ingestInPage(envelope: unknown): {ok: true} | {ok: false; error: string; issues: ReadonlyArray<{path: string; message: string}>} {
  type Ingesting = {ingest(input: unknown, origin: string): {ok: boolean; error?: string; issues?: Array<{path: string; message: string}>}};
  const bus = (globalThis as unknown as Record<symbol, Ingesting | undefined>)[Symbol.for('switchboard.page-bus')];
  if (bus === undefined) return {ok: false, error: 'the page has no Switchboard bus yet (no app or shell has started)', issues: []};
  const result = bus.ingest(envelope, 'test');
  return result.ok ? {ok: true} : {ok: false, error: result.error ?? 'rejected', issues: result.issues ?? []};
}

/** Runs in the page: the topics each of the page's hub bridges follows, and its status. */
export function pageHubsInPage(): Array<{url: string; status: string; following: string[]}> {
  type Bridge = {status: string; following: string[]};
  const hubs = (globalThis as unknown as Record<symbol, Map<string, Bridge> | undefined>)[Symbol.for('switchboard.page-hubs')];
  return hubs === undefined ? [] : [...hubs].map(([url, h]) => ({url, status: h.status, following: [...h.following]}));
}
