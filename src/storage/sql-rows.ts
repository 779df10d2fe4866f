// Row decoding and small helpers shared by the SQL stores (Postgres returns BIGINT as strings, SQLite as numbers).
import type { LedgerEntry, LedgerKind, RecordMeta, StoredRecord } from './contract.js';

export type Row = Record<string, unknown>;
export type Params = Record<string, unknown>;

/** A BIGINT column as a JS number; refuses what a double cannot hold exactly. */
export function int(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`store returned a non-integer or unsafe integer: ${String(value)}`);
  return n;
}

export const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : int(value));

/** Postgres booleans are true/false, SQLite's are 1/0. */
export const bool = (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 't';

export function toMeta(row: Row): RecordMeta {
  return {
    key: String(row.key),
    version: int(row.version),
    size: int(row.size),
    tag: String(row.tag),
    createdAt: int(row.created_at),
    updatedAt: int(row.updated_at),
    expiresAt: intOrNull(row.expires_at),
  };
}

export function toRecord(row: Row): StoredRecord {
  const value = row.value as Uint8Array;
  return Object.assign(toMeta(row), { value: Buffer.isBuffer(value) ? value : Buffer.from(value) });
}

/** A ledger row; `p` is the column prefix when the row comes from a joined result (`e_seq`...). */
export function toEntry(account: string, row: Row, p = ''): LedgerEntry {
  return {
    seq: int(row[`${p}seq`]),
    accountId: account,
    amount: int(row[`${p}amount`]),
    kind: String(row[`${p}kind`]) as LedgerKind,
    reference: (row[`${p}reference`] as string | null) ?? null,
    memo: (row[`${p}memo`] as string | null) ?? null,
    createdAt: int(row[`${p}created_at`]),
    balanceAfter: int(row[`${p}balance_after`]),
  };
}

/** Bytes as the drivers bind them (both take Buffer; a plain Uint8Array is wrapped, not copied). */
export const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The smallest string greater than every string starting with `prefix`, so that a prefix becomes
 * the index range [prefix, upper). UTF-8 byte order equals code point order, so bumping the last
 * code point is enough; null when no upper bound exists (prefix of U+10FFFF only).
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Surrogate code points are not characters: skip to the next one after them.
      const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return null;
}

/** Statements are written once with `@name` placeholders; Postgres needs them as `$1..$n`. */
export interface Compiled {
  text: string;
  names: string[];
}

export function compileForPostgres(sql: string): Compiled {
  const names: string[] = [];
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, names };
}
