import {createHash} from 'node:crypto';
import type {Canary} from './records.js';

/** What the registry knows of one request when it picks versions: a visitor id, headers, cookies. */
export interface Visitor {
  /** A stable id per visitor (the `sb-visitor` cookie), so a canary is sticky. */
  readonly id: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  readonly cookies?: Readonly<Record<string, string>>;
}

/**
 * Whether `visitor` gets `canary` of app `name`: always in the cohort, otherwise by a hash of the
 * visitor id, the app and the canary version, so the answer is the same on every request and every
 * node, and raising the share only adds visitors (nobody flips back).
 */
export function inCanary(name: string, canary: Canary, visitor: Visitor): boolean {
  const cohort = canary.cohort;
  if (cohort !== undefined) {
    if (cohort.cookie !== undefined && visitor.cookies?.[cohort.cookie] === cohort.value) return true;
    if (cohort.header !== undefined) {
      const sent = visitor.headers?.[cohort.header.toLowerCase()];
      if ((Array.isArray(sent) ? sent : [sent]).includes(cohort.value)) return true;
    }
  }
  if (canary.percent <= 0) return false;
  if (canary.percent >= 100) return true;
  return bucket(`${visitor.id}\0${name}\0${canary.version}`) < canary.percent * 100;
}

/** A number in [0, 10000) from a string, evenly spread. */
function bucket(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % 10_000;
}
