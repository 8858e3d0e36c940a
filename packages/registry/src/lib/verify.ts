/**
 * Deploy-time checks that need the network: a module must load, and its bytes must match the
 * integrity the deploy claims (or the registry records the hash it computed).
 */
import {createHash} from 'node:crypto';
import {RegistryRefusal} from './errors.js';
import type {DeployRecord} from './records.js';

/** Fetches a module's bytes; rejects with a message saying why it could not. */
export type ModuleFetcher = (url: string) => Promise<Uint8Array>;

/** Default largest module a deploy may point at: 10 MB. */
export const DEFAULT_MAX_MODULE_BYTES = 10 * 1024 * 1024;
/** Default time a module fetch may take: 10 s. */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

/** A {@link ModuleFetcher} over `fetch`, with a timeout and a size bound. */
export function httpModuleFetcher(maxBytes = DEFAULT_MAX_MODULE_BYTES, timeoutMs = DEFAULT_FETCH_TIMEOUT_MS): ModuleFetcher {
  return async (url) => {
    const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs), redirect: 'follow'});
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel();
      throw new Error(`${declared} bytes, more than the ${maxBytes} allowed`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw new Error(`more than the ${maxBytes} bytes allowed`);
    return bytes;
  };
}

/** The SRI hash of `bytes` with `algorithm` (sha384 unless the expected hash names another). */
export function sri(bytes: Uint8Array, algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha384'): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/**
 * Fetches `record`'s module (and standalone variant), refusing when one is unreachable or does not
 * match its integrity; returns the record with the integrity of each filled in.
 */
export async function verifyModules(record: DeployRecord, fetchModule: ModuleFetcher, resolveUrl: (url: string) => string): Promise<DeployRecord> {
  const check = async (url: string, claimed: string | undefined, what: string): Promise<string> => {
    let bytes: Uint8Array;
    try {
      bytes = await fetchModule(resolveUrl(url));
    } catch (error) {
      throw new RegistryRefusal('unreachable', `${record.name}@${record.version}: the ${what} ${url} is unreachable (${(error as Error).message}); nothing was changed`);
    }
    const algorithm = (claimed?.split('-')[0] ?? 'sha384') as 'sha256' | 'sha384' | 'sha512';
    const actual = sri(bytes, algorithm);
    if (claimed !== undefined && claimed !== actual) {
      throw new RegistryRefusal('integrity_mismatch', `${record.name}@${record.version}: the ${what} ${url} does not match its integrity (claimed ${claimed}, served ${actual}); nothing was changed`);
    }
    return actual;
  };
  const integrity = await check(record.module, record.integrity, 'module');
  const standaloneIntegrity = record.standalone === undefined ? undefined : await check(record.standalone, record.standaloneIntegrity, 'standalone module');
  return {...record, integrity, ...(standaloneIntegrity === undefined ? {} : {standaloneIntegrity})};
}
