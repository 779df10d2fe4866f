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

import { LIVE, META, PK, SWEEP_BATCH, kvStatements } from './sql-kv-statements.js';

/**
 * Every method is one statement, atomic on its own row (ON CONFLICT / conditional UPDATE); a
 * failed conditional write may add one plain read to report the current state.
 */
export class SqlKv {
  private readonly sql: ReturnType<typeof kvStatements>;

  constructor(private readonly x: SqlExec, private readonly t: TableNames) {
    this.sql = kvStatements(t, x.search.documentSql);
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
    // The record and its events commit together, or neither does: in the record's own statement where a write may
    // sit in a CTE (Postgres), else in one transaction.
    if (this.x.dataModifyingCte) return this.drive(this.putSteps(account, collection, key, input, now, expect, done));
    if (!this.x.atomic) throw new Error('put: this store does not write outbox events (StoreInfo.outbox)');
    return this.x.atomic(this.putSteps(account, collection, key, input, now, expect, done));
  }

  /** Runs steps one statement after the other (each atomic on its own). */
  private async drive<T>(steps: Steps<T>): Promise<T> {
    let step = steps.next();
    while (!step.done) step = steps.next(await this.x.all(step.value.sql, step.value.params));
    return step.value;
  }

  /**
   * put as steps; `done`: outbox rows written with the account's balance, by the record's statement (Postgres: see
   * putEvents) or after it (SQLite, in one transaction).
   */
  private *putSteps(
    account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect, done?: readonly OutboxRow[],
  ): Steps<PutResult> {
    // No index given (absent or undefined): the record keeps its document when it stays live (`keep`),
    // a new or expired one gets none. '' is "not searchable": no document.
    const keep = input.index === undefined ? 1 : 0;
    const search = input.index === undefined ? null : this.x.search.document(input.index);
    const inline = done !== undefined && this.x.dataModifyingCte;
    const p: Params = { account, collection, key, now, value: toBuffer(input.value), size: input.size, tag: input.tag, expires_at: input.expiresAt, keep, search };
    if (inline) p.rows = JSON.stringify(done);
    const result = !expect
      ? { ok: true as const, row: (yield { sql: inline ? this.sql.upsertEvents : this.sql.upsert, params: p })[0]! }
      : 'absent' in expect
        ? yield* this.attemptSteps(this.sql.insertIfAbsent, p, inline)
        : yield* this.attemptSteps(this.sql.updateIfVersion, { ...p, version: expect.version }, inline);
    if (!result.ok) return result;
    if (done && !inline) {
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

  /** Runs a conditional write on one record; when it does not apply, reports the record as it is. `events`: see putEvents. */
  private *attemptSteps(write: string, p: Params, events = false): Steps<{ ok: true; row: Row } | { ok: false; current: RecordMeta | null }> {
    if (this.x.dataModifyingCte) {
      const [row] = yield { sql: `WITH w AS (${write})${events ? `, ${this.sql.putEvents}` : ''}
        SELECT true AS ok, ${META} FROM w${events ? ', ob' : ''}
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
