/** Why the registry refused a change; each maps to one HTTP status. */
export type RefusalCode =
  | 'invalid'
  | 'not_found'
  | 'stale_revision'
  | 'immutable_version'
  | 'unreachable'
  | 'integrity_mismatch'
  | 'shared_unsatisfiable'
  | 'breaking_contract'
  | 'unavailable';

const STATUS: Record<RefusalCode, number> = {
  invalid: 400,
  not_found: 404,
  stale_revision: 409,
  immutable_version: 409,
  unreachable: 422,
  integrity_mismatch: 422,
  shared_unsatisfiable: 422,
  breaking_contract: 422,
  unavailable: 503,
};

/**
 * A change the registry refused, with a message saying what to do; nothing was changed.
 *
 * ```ts
 * try { await registry.deploy(record, {expect: '4'}); }
 * catch (e) { if (e instanceof RegistryRefusal && e.code === 'stale_revision') console.log(e.current); }
 * ```
 */
export class RegistryRefusal extends Error {
  override readonly name = 'RegistryRefusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
    /** The current revision, for a stale one. */
    readonly current?: string,
  ) {
    super(message);
  }

  /** The HTTP status this refusal answers with. */
  get status(): number {
    return STATUS[this.code];
  }
}
