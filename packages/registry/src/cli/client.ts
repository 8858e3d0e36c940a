/** The deploy API over HTTP, as the CLI (or a CI job) calls it. */
import type {Change, DeployRecordInput} from '../lib/records.js';

/** A refusal from the server: its status, message and, for a stale revision, the current one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** The server's base URL, e.g. `http://localhost:8080`. */
  readonly server: string;
  /** An access token with the `deploy` scope, when the server checks tokens. */
  readonly token?: string;
}

/** The registry's overview: its revision and apps. */
export interface RegistryOverview {
  readonly revision: string;
  readonly environment: string;
  readonly overridesAllowed: boolean;
  readonly apps: Record<string, {kind: string; stable: string | null; canary: {version: string; percent: number} | null; versions: Record<string, unknown>}>;
}

/**
 * ```ts
 * const client = new RegistryClient({server: 'http://localhost:8080', token});
 * const {revision} = await client.overview();
 * await client.deploy(record, {expect: revision});
 * ```
 */
export class RegistryClient {
  readonly #base: string;
  readonly #token: string | undefined;

  constructor(options: RegistryClientOptions) {
    this.#base = options.server.replace(/\/+$/, '');
    this.#token = options.token;
  }

  overview(): Promise<RegistryOverview> {
    return this.#call('GET', '/api/registry');
  }

  async history(options: {name?: string; limit?: number} = {}): Promise<Change[]> {
    const query = new URLSearchParams();
    if (options.name !== undefined) query.set('name', options.name);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return (await this.#call<{changes: Change[]}>('GET', `/api/registry/history?${query}`)).changes;
  }

  deploy(record: DeployRecordInput, body: {expect: string; canary?: {percent: number; cohort?: unknown}}): Promise<{change: Change; revision: string}> {
    return this.#call('POST', '/api/registry/deploys', {record, ...body});
  }

  action(name: string, action: 'rollback' | 'promote' | 'canary', body: Record<string, unknown>): Promise<{change: Change; revision: string}> {
    return this.#call('POST', `/api/registry/apps/${encodeURIComponent(name)}/${action}`, body);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(this.#token === undefined ? {} : {authorization: `Bearer ${this.#token}`})},
        ...(body === undefined ? {} : {body: JSON.stringify(body)}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new ApiError(0, `cannot reach ${this.#base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, `${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const {error, code} = json as {error?: string; code?: string};
      throw new ApiError(response.status, error ?? `HTTP ${response.status}`, code);
    }
    return json as T;
  }
}
