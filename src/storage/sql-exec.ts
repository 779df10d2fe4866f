// How the SQL stores' shared statements reach a database (SqlExec), and small helpers of those statements.
import type { SearchDialect } from './sql-search.js';
import { prefixUpperBound, type Params, type Row } from './sql-rows.js';

/** One statement and its parameters: a step of an operation written as a generator (see SqlExec.atomic). */
export interface Query {
  sql: string;
  params: Params;
}

/** An operation as steps: it yields each statement and is given back its rows, so one text runs on either kind of driver. */
export type Steps<T> = Generator<Query, T, Row[]>;

/** How the shared statements reach a database: one statement per call, `@name` placeholders. */
export interface SqlExec {
  /** Rows of one statement (its RETURNING rows when it writes). */
  all(sql: string, params: Params): Promise<Row[]>;
  /** Number of rows one statement changed. */
  run(sql: string, params: Params): Promise<number>;
  /** True when a write may sit in a WITH clause (Postgres): a failed write then reports the current row in the same round trip. */
  dataModifyingCte: boolean;
  /** How search documents are stored and queried (sql-search.ts). */
  search: SearchDialect;
  /**
   * Runs every step in one transaction (SQLite: synchronously, so nothing else of this process interleaves). Present
   * when the store writes put's outbox events (StoreInfo.outbox).
   */
  atomic?<T>(steps: Steps<T>): T;
}

/**
 * Adds "key starts with `prefix`" to `where` as a key range, not LIKE: it uses the primary key index and
 * has no wildcard or case-folding traps.
 */
export function keyRange(prefix: string | undefined, where: string[], p: Params, column = 'key'): void {
  if (!prefix) return;
  where.push(`${column} >= @lo`);
  p.lo = prefix;
  const hi = prefixUpperBound(prefix);
  if (hi !== null) {
    where.push(`${column} < @hi`);
    p.hi = hi;
  }
}
