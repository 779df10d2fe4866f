// Literals of the Postgres money statements (sent as simple-protocol text, without parameters: see MultiQuery).
import pg from 'pg';
import { StoreRefusedValueError } from '../errors.js';

/**
 * A string literal. A NUL would end the query text early on the wire (the protocol's strings are
 * NUL-terminated): refused here as the invalid data it is, never sent as a truncated statement.
 */
export const str = (s: string | null | undefined): string => {
  if (s === null || s === undefined) return 'NULL';
  if (s.includes('\u0000')) throw new StoreRefusedValueError(new Error('a text value contains U+0000, which Postgres text cannot hold'));
  return pg.escapeLiteral(s);
};
export const num = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new TypeError(`money amounts and times must be safe integers, got ${n}`);
  return `(${n})`; // parenthesised: "x - -5" must never become the comment "x --5"
};
