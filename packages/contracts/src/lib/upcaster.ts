import type {Contract, DataOf, InputOf} from './define-event.js';

/**
 * Turns `data` of one version of a type into the next version, so old producers and new consumers
 * coexist: a consumer asks for the version it understands and gets it, whatever was sent.
 */
export interface Upcaster<From extends Contract = Contract, To extends Contract = Contract> {
  readonly from: From;
  readonly to: To;
  readonly upcast: (data: DataOf<From>) => InputOf<To>;
}

/**
 * Defines an upcaster from version N of a type to version N+1.
 *
 * ```ts
 * export const OrderPlacedV1toV2 = defineUpcaster(OrderPlacedV1, OrderPlacedV2, (v1) => ({...v1, currency: 'EUR'}));
 * ```
 */
export function defineUpcaster<From extends Contract, To extends Contract>(
  from: From,
  to: To,
  upcast: (data: DataOf<From>) => InputOf<To>,
): Upcaster<From, To> {
  if (from.type !== to.type) throw new TypeError(`defineUpcaster: "${from.type}" and "${to.type}" are different types`);
  if (to.version !== from.version + 1) {
    throw new TypeError(`defineUpcaster: "${from.type}" must go from version N to N+1, not ${from.version} to ${to.version}`);
  }
  return Object.freeze({from, to, upcast});
}

/** Whether a registration is an upcaster rather than a contract. */
export function isUpcaster(value: Contract | Upcaster): value is Upcaster {
  return 'upcast' in value;
}
