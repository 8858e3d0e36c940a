import type {z} from 'zod';

/** One reason an input was refused, JSON-friendly: `path` is dotted (`data.quantity`), `''` for the root. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
  readonly code?: string;
}

/** The outcome of validating untrusted input: the parsed value, or a one-line error and its issues. */
export type ValidationResult<T> =
  | {readonly ok: true; readonly value: T}
  | {readonly ok: false; readonly error: string; readonly issues: readonly ValidationIssue[]};

/** Turns zod issues into {@link ValidationIssue}s, each path prefixed with `prefix` (e.g. `data`). */
export function toIssues(error: z.core.$ZodError, prefix?: string): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = [...(prefix === undefined ? [] : [prefix]), ...issue.path.map(String)].join('.');
    return {path, message: issue.message, code: issue.code};
  });
}

/** Builds a failed {@link ValidationResult} whose one-line error names the first issue. */
export function invalid<T>(what: string, issues: readonly ValidationIssue[]): ValidationResult<T> {
  const first = issues[0];
  const detail = first === undefined ? '' : `: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return {ok: false, error: `${what}${detail}${more}`, issues};
}
