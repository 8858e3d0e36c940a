import type {ValidationIssue} from '@switchboard/contracts';

/** Default of {@link IssueList}'s cap: ASP.NET Core's `MaxModelValidationErrors` is 200 too. */
export const MAX_REPORTED_ISSUES = 200;

/**
 * The issues of a batch, by item index, kept up to a cap and counted past it: a small invalid body
 * (64 KB of `{}`) must not be answered with megabytes of issues.
 */
export class IssueList {
  readonly kept: ValidationIssue[] = [];
  #total = 0;

  constructor(readonly max = MAX_REPORTED_ISSUES) {}

  /** Adds `issue` of item `index`, its path prefixed with the index; counted only, past the cap. */
  add(issue: ValidationIssue, index: number): void {
    this.#total++;
    if (this.kept.length < this.max) this.kept.push({...issue, path: `${index}${issue.path === '' ? '' : `.${issue.path}`}`});
  }

  /** Issues seen, kept or not. */
  get total(): number {
    return this.#total;
  }

  /** Issues seen but not kept. */
  get omitted(): number {
    return this.#total - this.kept.length;
  }

  /** A suffix for the error message saying how many issues were left out; empty when none were. */
  note(): string {
    return this.omitted === 0 ? '' : ` (the first ${this.kept.length} issues are listed, ${this.omitted} more were omitted)`;
  }
}
