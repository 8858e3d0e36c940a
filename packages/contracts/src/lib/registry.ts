import {z} from 'zod';
import type {Contract} from './define-event.js';
import {envelopeSchema, type Envelope} from './envelope.js';
import {isUpcaster, type Upcaster} from './upcaster.js';
import {invalid, toIssues, type ValidationResult} from './validation.js';

/**
 * The set of contracts a bus, a hub or a service knows. Validates untrusted envelopes: first the
 * envelope's own fields, then `data` against the contract for (`type`, `version`).
 *
 * ```ts
 * const registry = new ContractRegistry().register(OrderPlaced, OrderShipped);
 * const result = registry.validate(JSON.parse(body));
 * if (!result.ok) return reply(400, {error: result.error, issues: result.issues});
 * ```
 */
export class ContractRegistry {
  readonly #byType = new Map<string, Map<number, Contract>>();
  /** Upcasters by type, then by the version they start from. */
  readonly #upcasters = new Map<string, Map<number, Upcaster>>();

  /**
   * Adds contracts and upcasters. Registering the same (`type`, `version`) again is allowed only
   * with a schema that describes the same data (two bundles may each carry a copy of a contract);
   * anything else throws here, at registration, rather than surfacing later as a confusing
   * validation failure. An upcaster registers both its contracts.
   */
  register(...items: ReadonlyArray<Contract | Upcaster>): this {
    for (const item of items) {
      if (isUpcaster(item)) this.#registerUpcaster(item);
      else this.#registerContract(item);
    }
    return this;
  }

  #registerUpcaster(upcaster: Upcaster): void {
    this.#registerContract(upcaster.from);
    this.#registerContract(upcaster.to);
    let byVersion = this.#upcasters.get(upcaster.from.type);
    if (byVersion === undefined) this.#upcasters.set(upcaster.from.type, (byVersion = new Map()));
    const existing = byVersion.get(upcaster.from.version);
    if (existing !== undefined && existing.upcast !== upcaster.upcast) {
      throw new Error(`ContractRegistry: "${upcaster.from.type}" already has an upcaster from version ${upcaster.from.version}`);
    }
    byVersion.set(upcaster.from.version, upcaster);
  }

  #registerContract(contract: Contract): void {
    let versions = this.#byType.get(contract.type);
    const existing = versions?.get(contract.version);
    if (existing !== undefined && existing !== contract) {
      if (existing.kind !== contract.kind || !sameShape(existing.schema, contract.schema)) {
        throw new Error(
          `ContractRegistry: "${contract.type}" version ${contract.version} is already registered with a different ${
            existing.kind !== contract.kind ? 'kind' : 'schema'
          }`,
        );
      }
      return;
    }
    if (versions === undefined) this.#byType.set(contract.type, (versions = new Map()));
    versions.set(contract.version, contract);
  }

  /**
   * The envelope as version `version` of its type: itself when it already is, else upcast step by
   * step (N → N+1 → …), each step's data validated by the next contract. Fails when the envelope is
   * newer than asked (there is no downcasting) or a step has no upcaster.
   */
  upcast(envelope: Envelope, version: number): ValidationResult<Envelope> {
    if (envelope.version === version) return {ok: true, value: envelope};
    const what = `cannot turn "${envelope.type}" v${envelope.version} into v${version}`;
    if (envelope.version > version) return invalid(what, [{path: 'version', message: 'no downcasting: the consumer is older than the event', code: 'newer_version'}]);
    let data: unknown = envelope.data;
    for (let v = envelope.version; v < version; v++) {
      const step = this.#upcasters.get(envelope.type)?.get(v);
      if (step === undefined) return invalid(what, [{path: 'version', message: `no upcaster from version ${v}`, code: 'no_upcaster'}]);
      let next: unknown;
      try {
        next = step.upcast(data as never);
      } catch (error) {
        return invalid(what, [{path: 'data', message: `upcaster from version ${v} threw: ${(error as Error).message}`, code: 'upcaster_failed'}]);
      }
      const parsed = step.to.schema.safeParse(next);
      if (!parsed.success) return invalid(`${what}: upcaster from version ${v} produced invalid data`, toIssues(parsed.error, 'data'));
      data = parsed.data;
    }
    return {ok: true, value: {...envelope, version, data}};
  }

  /** Every registered upcaster. */
  upcasters(): Upcaster[] {
    return [...this.#upcasters.values()].flatMap((byVersion) => [...byVersion.values()]);
  }

  /** The contract for `type` at `version`, or its latest version when `version` is omitted. */
  get(type: string, version?: number): Contract | undefined {
    const versions = this.#byType.get(type);
    if (versions === undefined) return undefined;
    if (version !== undefined) return versions.get(version);
    let latest: Contract | undefined;
    for (const c of versions.values()) if (latest === undefined || c.version > latest.version) latest = c;
    return latest;
  }

  /** Whether any version of `type` is registered. */
  has(type: string): boolean {
    return this.#byType.has(type);
  }

  /** Every registered type name. */
  types(): string[] {
    return [...this.#byType.keys()];
  }

  /** Every registered contract, all versions. */
  contracts(): Contract[] {
    return [...this.#byType.values()].flatMap((versions) => [...versions.values()]);
  }

  /**
   * Validates an untrusted envelope. On success `value` is the parsed envelope (its `data` parsed
   * by the contract's schema); on failure `issues` lists every problem with its path.
   */
  validate(input: unknown): ValidationResult<Envelope> {
    const head = envelopeSchema.safeParse(input);
    if (!head.success) return invalid('invalid envelope', toIssues(head.error));
    const {type, version} = head.data;
    const contract = this.get(type, version);
    if (contract === undefined) {
      const known = this.has(type);
      return invalid(known ? 'unknown version' : 'unknown event type', [
        known
          ? {path: 'version', message: `"${type}" has no version ${version}`, code: 'unknown_version'}
          : {path: 'type', message: `"${type}" is not a registered contract`, code: 'unknown_type'},
      ]);
    }
    const data = contract.schema.safeParse(head.data.data);
    if (!data.success) return invalid(`invalid data for "${type}" v${version}`, toIssues(data.error, 'data'));
    return {ok: true, value: {...head.data, data: data.data}};
  }

  /** Validates `data` against `contract` alone (for producers that build their own envelopes). */
  validateData<C extends Contract>(contract: C, data: unknown): ValidationResult<z.output<C['schema']>> {
    const parsed = contract.schema.safeParse(data);
    if (parsed.success) return {ok: true, value: parsed.data as z.output<C['schema']>};
    return invalid(`invalid data for "${contract.type}" v${contract.version}`, toIssues(parsed.error, 'data'));
  }
}

function sameShape(a: z.ZodType, b: z.ZodType): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(z.toJSONSchema(a)) === JSON.stringify(z.toJSONSchema(b));
  } catch {
    // Schemas JSON Schema cannot express (transforms, custom checks) cannot be compared: refuse.
    return false;
  }
}
