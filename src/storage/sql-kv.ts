// Records, counters, claims and ledger reads as single SQL statements, written once for Postgres and SQLite.
import type {
  ClaimResult, DeleteResult, Expect, LedgerEntry, ListQuery, Millis, PutInput, PutResult, RecordMeta, SearchHit, SearchQuery, StoredRecord,
} from './contract.js';
import type { OutboxRow } from './outbox.js';
import { outboxInsertParams, sqliteOutboxInsert } from './sql-outbox.js';
import type { TableNames } from './sql-schema.js';
import { searchRecords } from './sql-search.js';
import { keyRange, type SqlExec, type Steps } from './sql-exec.js';
import { bool, int, toBuffer, toEntry, toMeta, toRecord, type Params, type Row } from './sql-rows.js';

export { keyRange, type Query, type SqlExec, type Steps } from './sql-exec.js';

const LIVE = '(expires_at IS NULL OR expires_at > @now)';
const META = 'key, version, size, tag, created_at, updated_at, expires_at';
const PK = 'account = @account AND collection = @collection AND key = @key';
/** Rows removed per sweep statement: bounds each statement's time and lock footprint. */
const SWEEP_BATCH = 1000;

/**
 * Every method is one statement, atomic on its own row (ON CONFLICT / conditional UPDATE); a
 * failed conditional write may add one plain read to report the current state.
 */
export class SqlKv {
  private readonly sql: ReturnType<typeof statements>;

  constructor(private readonly x: SqlExec, private readonly t: TableNames) {
    this.sql = statements(t, x.search.documentSql);
  }

  async get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    const [row] = await this.x.all(this.sql.get, { account, collection, key, now });
    return row ? toRecord(row) : null;
  }

  private async meta(account: string, collection: string, key: string, now: Millis): Promise<RecordMeta | null> {
    const [row] = await this.x.all(this.sql.meta, { account, collection, key, now });
    return row ? toMeta(row) : null;
  }

  async put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    const done = input.events?.done;
    if (!done?.length) return this.drive(this.putSteps(account, collection, key, input, now, expect));
    // The record and its events commit together, or neither does.
    if (!this.x.atomic) throw new Error('put: this store does not write outbox events (StoreInfo.outbox)');
    return this.x.atomic(this.putSteps(account, collection, key, input, now, expect, done));
  }

  /** Runs steps one statement after the other (each atomic on its own). */
  private async drive<T>(steps: Steps<T>): Promise<T> {
    let step = steps.next();
    while (!step.done) step = steps.next(await this.x.all(step.value.sql, step.value.params));
    return step.value;
  }

  /** put as steps; `done`: outbox rows written after the record, with the account's balance (SQLite, in one transaction). */
  private *putSteps(
    account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect, done?: readonly OutboxRow[],
  ): Steps<PutResult> {
    // No index given (absent or undefined): the record keeps its document when it stays live (`keep`),
    // a new or expired one gets none. '' is "not searchable": no document.
    const keep = input.index === undefined ? 1 : 0;
    const search = input.index === undefined ? null : this.x.search.document(input.index);
    const p = { account, collection, key, now, value: toBuffer(input.value), size: input.size, tag: input.tag, expires_at: input.expiresAt, keep, search };
    const result = !expect
      ? { ok: true as const, row: (yield { sql: this.sql.upsert, params: p })[0]! }
      : 'absent' in expect
        ? yield* this.attemptSteps(this.sql.insertIfAbsent, p)
        : yield* this.attemptSteps(this.sql.updateIfVersion, { ...p, version: expect.version });
    if (!result.ok) return result;
    if (done) {
      const [row] = yield { sql: this.sql.accountBalance, params: { account } };
      const balance = row ? int(row.balance) : 0;
      for (const r of done) yield { sql: sqliteOutboxInsert(this.t), params: outboxInsertParams(account, r, balance, now) };
    }
    // A live record was kept (version + 1); an absent or expired one starts over at version 1.
    return { ok: true, record: toMeta(result.row), created: int(result.row.version) === 1 };
  }

  private attempt(write: string, p: Params): Promise<{ ok: true; row: Row } | { ok: false; current: RecordMeta | null }> {
    return this.drive(this.attemptSteps(write, p));
  }

  /** Runs a conditional write on one record; when it does not apply, reports the record as it is. */
  private *attemptSteps(write: string, p: Params): Steps<{ ok: true; row: Row } | { ok: false; current: RecordMeta | null }> {
    if (this.x.dataModifyingCte) {
      const [row] = yield { sql: `WITH w AS (${write})
        SELECT true AS ok, ${META} FROM w
        UNION ALL SELECT false AS ok, ${META} FROM ${this.t.records} WHERE ${PK} AND ${LIVE} AND NOT EXISTS (SELECT 1 FROM w)`, params: p };
      if (row) return bool(row.ok) ? { ok: true, row } : { ok: false, current: toMeta(row) };
      // Nothing live in this statement's snapshot, yet the write did not apply: a concurrent writer
      // created the record after the snapshot. A fresh read reports it.
    } else {
      const [row] = yield { sql: write, params: p };
      if (row) return { ok: true, row };
    }
    const [row] = yield { sql: this.sql.meta, params: p };
    return { ok: false, current: row ? toMeta(row) : null };
  }

  async delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    const p = { account, collection, key, now };
    if (!expect) {
      const [row] = await this.x.all(this.sql.deleteAny, p);
      return { ok: true, deleted: row !== undefined && bool(row.live) };
    }
    if ('absent' in expect) {
      const current = await this.meta(account, collection, key, now);
      if (current) return { ok: false, current };
      await this.x.run(this.sql.deleteExpired, p);
      return { ok: true, deleted: false };
    }
    const result = await this.attempt(this.sql.deleteIfVersion, { ...p, version: expect.version });
    return result.ok ? { ok: true, deleted: true } : result;
  }

  async list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    return (await this.liveRows(META, account, collection, query, now)).map(toMeta);
  }

  /** `list` with the values, in the same single statement. */
  async entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]> {
    return (await this.liveRows(`${META}, value`, account, collection, query, now)).map(toRecord);
  }

  /** Full-text search of a collection's live records (sql-search.ts), one statement. */
  search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]> {
    return searchRecords(this.x, this.t, this.x.search, account, collection, query, now);
  }

  private liveRows(columns: string, account: string, collection: string, query: ListQuery, now: Millis): Promise<Row[]> {
    const where = [`account = @account AND collection = @collection AND ${LIVE}`];
    const p: Params = { account, collection, now, limit: query.limit };
    if (query.after !== undefined) {
      where.push('key > @after');
      p.after = query.after;
    }
    keyRange(query.prefix, where, p);
    return this.x.all(`SELECT ${columns} FROM ${this.t.records} WHERE ${where.join(' AND ')} ORDER BY key LIMIT @limit`, p);
  }

  async purge(account: string, collection: string): Promise<number> {
    const rows = await this.x.all(this.sql.purge, { account, collection, now: Date.now() });
    return rows.filter((row) => bool(row.live)).length;
  }

  async incr(account: string, name: string, by: number, expiresAt: Millis): Promise<number> {
    const [row] = await this.x.all(this.sql.incr, { account, name, by, expires_at: expiresAt, now: Date.now() });
    return int(row!.value);
  }

  async counter(account: string, name: string, now: Millis): Promise<number> {
    const [row] = await this.x.all(this.sql.counter, { account, name, now });
    return row ? int(row.value) : 0;
  }

  /** The balance when no hold of the account has expired at `now`; null means "release first". */
  async balanceIfSettled(account: string, now: Millis): Promise<number | null> {
    const [row] = await this.x.all(this.sql.balance, { account, now });
    if (bool(row!.stale)) return null;
    return row!.balance === null ? 0 : int(row!.balance);
  }

  async ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.x.all(this.sql.ledger, { account, before, limit: query.limit });
    return rows.map((row) => toEntry(account, row));
  }

  async claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    const p = { scope: scope ?? '', key, value, expires_at: expiresAt, now };
    // The loop only repeats when the winner released its claim between our two statements.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.x.dataModifyingCte) {
        // One round trip: the winner's value comes back with the refusal (from this statement's snapshot).
        const [row] = await this.x.all(this.sql.claimOrWinner, p);
        if (row) return bool(row.won) ? { inserted: true } : { inserted: false, value: String(row.value) };
      } else if ((await this.x.all(this.sql.claim, p)).length > 0) {
        return { inserted: true };
      }
      // Refused, but the winner committed after this statement's snapshot: read it fresh.
      const [row] = await this.x.all(this.sql.claimed, p);
      if (row) return { inserted: false, value: String(row.value) };
    }
    throw new Error('claim: the key kept changing hands; giving up');
  }

  async updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    await this.x.run(this.sql.setClaim, { scope: scope ?? '', key, value, expires_at: expiresAt });
  }

  async releaseClaim(scope: string | null, key: string): Promise<void> {
    await this.x.run(this.sql.releaseClaim, { scope: scope ?? '', key });
  }

  /** Physically deletes expired records, claims, counters and charge ids in batches; returns the records removed. */
  async sweepExpired(now: Millis): Promise<number> {
    let records = 0;
    const tables = [[this.sql.sweepRecords, true], [this.sql.sweepClaims, false], [this.sql.sweepCounters, false], [this.sql.sweepCharges, false]] as const;
    for (const [sql, count] of tables) {
      for (;;) {
        const removed = await this.x.run(sql, { now });
        if (count) records += removed;
        if (removed < SWEEP_BATCH) break;
      }
    }
    return records;
  }

  /** Accounts with at least one hold expired at `now` (a batch; call again until empty). */
  async accountsWithExpiredHolds(now: Millis): Promise<string[]> {
    const rows = await this.x.all(this.sql.expiredHoldAccounts, { now });
    return rows.map((row) => String(row.account));
  }
}

/** `document`: the SQL of the search column's new value (from `@search`; see SearchDialect.documentSql). */
function statements(t: TableNames, document: string) {
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
  return {
    get: `SELECT ${META}, value FROM ${t.records} WHERE ${PK} AND ${LIVE}`,
    meta: `SELECT ${META} FROM ${t.records} WHERE ${PK} AND ${LIVE}`,
    upsert: upsert(false),
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
