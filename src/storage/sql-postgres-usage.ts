// Usage counting in the Postgres money statements: CTEs appended to an operation's WITH clause, so a count commits with its money.
import { num, str } from './sql-postgres-literals.js';
import type { TableNames } from './sql-schema.js';
import { addCounts, type UsageInput } from './usage.js';

export interface UsageSql {
  /** SELECTs of (counter, n) rows decided by the statement itself, e.g. `SELECT 'free', 1 FROM fr`. */
  counted: string[];
  /** SQL condition under which `given` is added: the operation took effect. */
  applies: string;
  /** Counters added as given. @default the caller's `add` */
  given?: Array<[string, number]>;
  /** A FROM clause yielding one row when `u.keyId`'s last use is to be kept (a charge whose key check passed). */
  keyUsed?: string;
}

/**
 * CTEs (each starting with ', ') counting `u` (`a`: the account literal; `now`: the caller's clock literal). The rows of
 * one counter are summed first, so the upsert touches each row once; a bucket row past its expiry starts over.
 */
export function postgresUsage(t: TableNames, a: string, now: string, u: UsageInput | undefined, q: UsageSql): string {
  if (!u) return '';
  const given = q.given ?? addCounts(u.add);
  const rows = [...q.counted];
  if (given.length > 0) rows.push(`SELECT f, v FROM (VALUES ${given.map(([f, n]) => `(${str(f)}, ${num(n)}::bigint)`).join(', ')}) p(f, v) WHERE ${q.applies}`);
  let sql = '';
  if (rows.length > 0) {
    sql += `, us AS (INSERT INTO ${t.usage} AS c (account, bucket, field, value, expires_at)
        SELECT ${a}, ${str(u.bucket)}, x.f, sum(x.v), ${num(u.expiresAt)} FROM (${rows.join(' UNION ALL ')}) x(f, v) GROUP BY x.f
        ON CONFLICT (account, bucket, field) DO UPDATE SET
          value = CASE WHEN c.expires_at > ${now} THEN c.value ELSE 0 END + excluded.value, expires_at = GREATEST(c.expires_at, excluded.expires_at))`;
  }
  if (q.keyUsed !== undefined && u.keyId !== undefined) {
    sql += `, ku AS (INSERT INTO ${t.keyUse} AS k (account, key_id, used_at) SELECT ${a}, ${str(u.keyId)}, ${now} ${q.keyUsed}
        ON CONFLICT (account, key_id) DO UPDATE SET used_at = GREATEST(k.used_at, excluded.used_at))`;
  }
  return sql;
}

/** Store.incr with usage: the counter and the caller's counters in one statement. Returns the counter's new value (column `value`). */
export function postgresIncr(t: TableNames, account: string, name: string, by: number, expiresAt: number, now: number, u: UsageInput): string {
  const [a, n] = [str(account), num(now)];
  return `WITH cnt AS (
      INSERT INTO ${t.counters} AS c (account, name, value, expires_at) VALUES (${a}, ${str(name)}, ${num(by)}, ${num(expiresAt)})
      ON CONFLICT (account, name) DO UPDATE SET
        value = CASE WHEN c.expires_at > ${n} THEN c.value + excluded.value ELSE excluded.value END, expires_at = excluded.expires_at
      RETURNING value
    )${postgresUsage(t, a, n, u, { counted: [], applies: 'true' })}
    SELECT value FROM cnt`;
}
