// The statements of SqlKv (records, counters, claims, ledger reads), written once for Postgres and SQLite.
import type { TableNames } from './sql-schema.js';

export const LIVE = '(expires_at IS NULL OR expires_at > @now)';
export const META = 'key, version, size, tag, created_at, updated_at, expires_at';
export const PK = 'account = @account AND collection = @collection AND key = @key';
/** Rows removed per sweep statement: bounds each statement's time and lock footprint. */
export const SWEEP_BATCH = 1000;

/** `document`: the SQL of the search column's new value (from `@search`; see SearchDialect.documentSql). */
export function kvStatements(t: TableNames, document: string) {
  // The search document changes in the statement that writes the record (Postgres: its tsvector column;
  // SQLite: its text column, which triggers copy into the FTS5 index in the same transaction).
  const upsert = (onlyIfExpired: boolean) => `
    INSERT INTO ${t.records} AS r (account, collection, key, value, version, size, tag, created_at, updated_at, expires_at, search)
    VALUES (@account, @collection, @key, @value, 1, @size, @tag, @now, @now, @expires_at, ${document})
    ON CONFLICT (account, collection, key) DO UPDATE SET
      value = excluded.value, size = excluded.size, tag = excluded.tag,
      updated_at = excluded.updated_at, expires_at = excluded.expires_at,
      version = CASE WHEN r.expires_at IS NULL OR r.expires_at > excluded.updated_at THEN r.version + 1 ELSE 1 END,
      created_at = CASE WHEN r.expires_at IS NULL OR r.expires_at > excluded.updated_at THEN r.created_at ELSE excluded.created_at END,
      search = CASE WHEN @keep = 1 AND (r.expires_at IS NULL OR r.expires_at > excluded.updated_at) THEN r.search ELSE excluded.search END
    ${onlyIfExpired ? 'WHERE r.expires_at IS NOT NULL AND r.expires_at <= excluded.updated_at' : ''}
    RETURNING ${META}`;
  // Inserts, or takes over an expired claim; returns a row only when this call won.
  const claim = `
    INSERT INTO ${t.claims} AS o (scope, key, value, expires_at) VALUES (@scope, @key, @value, @expires_at)
    ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    WHERE o.expires_at IS NOT NULL AND o.expires_at <= @now
    RETURNING 1 AS won`;
  const sweep = (table: string, pk: string) =>
    `DELETE FROM ${table} WHERE (${pk}) IN (SELECT ${pk} FROM ${table} WHERE expires_at <= @now LIMIT ${SWEEP_BATCH})`;
  const putEvents = `ob AS (SELECT ${t.outboxWrite}(@account, CAST(@rows AS jsonb),
      COALESCE((SELECT balance FROM ${t.accounts} WHERE account = @account), 0), @now) AS n FROM w)`;
  return {
    get: `SELECT ${META}, value FROM ${t.records} WHERE ${PK} AND ${LIVE}`,
    meta: `SELECT ${META} FROM ${t.records} WHERE ${PK} AND ${LIVE}`,
    upsert: upsert(false),
    // Postgres: put's outbox rows (@rows, jsonb) as a CTE over the write `w` of the record's own statement, so they are
    // written when, and only when, the write applied, in its transaction (the statement must read from it: see put).
    putEvents,
    upsertEvents: `WITH w AS (${upsert(false)}), ${putEvents} SELECT w.* FROM w, ob`,
    insertIfAbsent: upsert(true),
    updateIfVersion: `
      UPDATE ${t.records} SET value = @value, size = @size, tag = @tag, updated_at = @now, expires_at = @expires_at,
        version = version + 1, search = CASE WHEN @keep = 1 THEN search ELSE ${document} END
      WHERE ${PK} AND version = @version AND ${LIVE}
      RETURNING ${META}`,
    deleteAny: `DELETE FROM ${t.records} WHERE ${PK} RETURNING ${LIVE} AS live`,
    deleteExpired: `DELETE FROM ${t.records} WHERE ${PK} AND NOT ${LIVE}`,
    deleteIfVersion: `DELETE FROM ${t.records} WHERE ${PK} AND version = @version AND ${LIVE} RETURNING ${META}`,
    purge: `DELETE FROM ${t.records} WHERE account = @account AND collection = @collection RETURNING ${LIVE} AS live`,
    incr: `
      INSERT INTO ${t.counters} AS c (account, name, value, expires_at) VALUES (@account, @name, @by, @expires_at)
      ON CONFLICT (account, name) DO UPDATE SET
        value = CASE WHEN c.expires_at > @now THEN c.value + excluded.value ELSE excluded.value END,
        expires_at = excluded.expires_at
      RETURNING value`,
    counter: `SELECT value FROM ${t.counters} WHERE account = @account AND name = @name AND expires_at > @now`,
    accountBalance: `SELECT balance FROM ${t.accounts} WHERE account = @account`,
    balance: `SELECT (SELECT balance FROM ${t.accounts} WHERE account = @account) AS balance,
      EXISTS (SELECT 1 FROM ${t.holds} WHERE account = @account AND expires_at <= @now) AS stale`,
    ledger: `SELECT seq, amount, kind, reference, memo, created_at, balance_after FROM ${t.ledger}
      WHERE account = @account AND seq < @before ORDER BY seq DESC LIMIT @limit`,
    claim,
    claimed: `SELECT value FROM ${t.claims} WHERE scope = @scope AND key = @key AND ${LIVE}`,
    claimOrWinner: `WITH w AS (${claim})
      SELECT true AS won, NULL AS value FROM w
      UNION ALL SELECT false AS won, value FROM ${t.claims}
      WHERE scope = @scope AND key = @key AND ${LIVE} AND NOT EXISTS (SELECT 1 FROM w)`,
    setClaim: `
      INSERT INTO ${t.claims} (scope, key, value, expires_at) VALUES (@scope, @key, @value, @expires_at)
      ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    releaseClaim: `DELETE FROM ${t.claims} WHERE scope = @scope AND key = @key`,
    sweepRecords: sweep(t.records, 'account, collection, key'),
    sweepClaims: sweep(t.claims, 'scope, key'),
    sweepCounters: sweep(t.counters, 'account, name'),
    sweepCharges: sweep(t.charges, 'account, charge_id'),
    expiredHoldAccounts: `SELECT DISTINCT account FROM ${t.holds} WHERE expires_at <= @now LIMIT ${SWEEP_BATCH}`,
  };
}
