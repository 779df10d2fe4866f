// The one rule for text that reaches a store: well-formed Unicode without U+0000, checked at every door.
import { invalid } from './errors.js';

/**
 * Why `s` cannot be stored exactly as given, or null when it can. Postgres text cannot hold U+0000
 * at all, and every driver (pg, Redis, SQLite) re-encodes a lone surrogate as U+FFFD, silently. The
 * rule is the same whatever the backend, so data written on one can always move to another.
 */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (!s.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/** Throws a 400 naming `name` when `value` is not text that can be stored (see textProblem); undefined passes. */
export function checkText(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  const problem = textProblem(value);
  if (problem !== null) throw invalid(`${name} ${problem}`);
}
