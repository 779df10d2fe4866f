// Money operations on SQLite: each one is a synchronous IMMEDIATE transaction, so it is exact across processes sharing the file.
import type Database from 'better-sqlite3';
import { capOver, cappedRows, lowRows } from './caps.js';
import { authMatches } from './charge-auth.js';
import { takenBy, tooLate, VOIDED } from './charge-ids.js';
import type {
  ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, VoidInput, VoidResult,
} from './contract.js';
import type { OutboxRow, SpendCap } from './outbox.js';
import { outboxInsertParams, sqliteOutboxInsert } from './sql-outbox.js';
import type { TableNames } from './sql-schema.js';
import { int, intOrNull, type Params, type Row } from './sql-rows.js';
import { sqliteUsageStatements } from './sql-usage.js';
import { addCounts, postCounts, type UsageInput } from './usage.js';

/** Returns the prepared statement for `sql` (prepared once, on first use: the tables exist by then). */
export type Prepare = (sql: string) => Database.Statement;

interface Account {
  balance: number;
  seq: number;
  dirty: boolean;
  /** Holds released by this transaction before the operation ran. */
  released: number;
}

/**
 * The logic mirrors the reference store line by line (release expired holds, then the operation,
 * then save the account), because inside an IMMEDIATE transaction the plain read-then-write is
 * safe: SQLite admits one writer at a time for the whole file, across processes.
 */
export class SqliteMoney {
  private readonly sql: ReturnType<typeof statements>;
  private readonly transaction: Database.Transaction<(fn: () => unknown) => unknown>;

  private readonly usageSql: ReturnType<typeof sqliteUsageStatements>;

  constructor(db: Database.Database, private readonly prepare: Prepare, t: TableNames) {
    this.sql = statements(t);
    this.usageSql = sqliteUsageStatements(t);
    this.transaction = db.transaction((fn: () => unknown) => fn());
  }

  private get(sql: string, params: Params): Row | undefined {
    return this.prepare(sql).get(params) as Row | undefined;
  }

  private run(sql: string, params: Params): number {
    return this.prepare(sql).run(params).changes;
  }

  /**
   * BEGIN IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading a read lock.
   * `refuse`, when given, runs first: a non-undefined answer ends the transaction with nothing written.
   */
  private money<T>(account: string, now: Millis, fn: (a: Account) => T, refuse?: () => T | undefined): T {
    return this.transaction.immediate(() => {
      const refused = refuse?.();
      if (refused !== undefined) return refused;
      const row = this.get(this.sql.account, { account });
      const expired = this.prepare(this.sql.expiredHolds).all({ account, now }) as Row[];
      const a: Account = { balance: row ? int(row.balance) : 0, seq: row ? int(row.seq) : 0, dirty: false, released: expired.length };
      if (expired.length > 0) this.run(this.sql.deleteExpiredHolds, { account, now });
      for (const hold of expired) {
        this.append(a, account, { amount: int(hold.amount), kind: 'release', reference: `hold:${String(hold.hold_id)}`, memo: 'hold expired' }, now);
      }
      const result = fn(a);
      if (a.dirty) this.run(this.sql.saveAccount, { account, balance: a.balance, seq: a.seq });
      return result;
    }) as T;
  }

  private append(a: Account, account: string, input: PostInput, now: Millis): LedgerEntry {
    a.seq += 1;
    a.balance += input.amount;
    a.dirty = true;
    const entry: LedgerEntry = {
      seq: a.seq, accountId: account, amount: input.amount, kind: input.kind, reference: input.reference ?? null,
      memo: input.memo ?? null, createdAt: now, balanceAfter: a.balance,
    };
    this.run(this.sql.insertEntry, {
      account, seq: entry.seq, amount: entry.amount, kind: entry.kind, reference: entry.reference, memo: entry.memo,
      created_at: now, balance_after: entry.balanceAfter,
    });
    return entry;
  }

  /** Adds `counts` and the caller's `add` to `u`'s bucket; inside the transaction of the operation that took effect. */
  private count(account: string, u: UsageInput, now: Millis, counts: Array<[string, number]>): void {
    for (const [field, n] of [...counts, ...addCounts(u.add)]) {
      if (n !== 0) this.run(this.usageSql.count, { account, bucket: u.bucket, field, n, expires_at: u.expiresAt, now });
    }
  }

  /** A live counter's value (0 when absent or expired): the free calls' and the spend caps' counters. */
  private counter(account: string, name: string, now: Millis): number {
    return int(this.get(this.sql.counter, { account, name, now })?.value ?? 0);
  }

  /** Adds `amount` to each cap's counter (created with the cap's expiry; an existing expiry is never shortened). */
  private spend(account: string, caps: readonly SpendCap[] | undefined, amount: number, now: Millis): void {
    if (caps) for (const cap of caps) this.run(this.sql.spend, { account, name: cap.counter, by: amount, expires_at: cap.expiresAt, now });
  }

  /** Adds `delta` to each live counter named (a give-back never creates one). */
  private giveBack(account: string, names: readonly string[] | undefined, delta: number, now: Millis): void {
    if (names && delta !== 0) for (const name of names) this.run(this.sql.giveBack, { account, name, delta, now });
  }

  /** Writes outbox rows once by id, with the account's balance after the operation (inside its transaction). */
  private write(account: string, rows: readonly OutboxRow[] | undefined, balance: number, now: Millis): void {
    if (rows) for (const r of rows) this.run(this.sql.outbox, outboxInsertParams(account, r, balance, now));
  }

  /** Store.incr with usage: the counter and the caller's counters in one transaction. */
  incr(account: string, name: string, by: number, expiresAt: Millis, usage: UsageInput): number {
    return this.transaction.immediate(() => {
      const now = Date.now();
      const value = int(this.get(this.sql.counter, { account, name, now })?.value ?? 0) + by;
      this.run(this.sql.setCounter, { account, name, value, expires_at: expiresAt });
      this.count(account, usage, now, []);
      return value;
    }) as number;
  }

  releaseExpired(account: string, now: Millis): number {
    return this.money(account, now, (a) => a.released);
  }

  balance(account: string, now: Millis): number {
    return this.money(account, now, (a) => a.balance);
  }

  post(account: string, input: PostInput, now: Millis): PostResult {
    return this.money(account, now, (a): PostResult => {
      if (input.reference !== undefined && input.reference !== null && this.get(this.sql.referenceUsed, { account, reference: input.reference })) {
        return { ok: false, reason: 'duplicate', balance: a.balance };
      }
      if (input.amount < 0 && a.balance + input.amount < 0) return { ok: false, reason: 'insufficient_funds', balance: a.balance };
      const before = a.balance;
      const entry = this.append(a, account, input, now);
      this.giveBack(account, input.caps, -input.amount, now);
      this.write(account, input.events?.done, a.balance, now);
      this.write(account, lowRows(input.events, before, a.balance), a.balance, now);
      if (input.usage) this.count(account, input.usage, now, postCounts(input.kind, input.amount));
      return { ok: true, entry, balance: a.balance };
    });
  }

  charge(account: string, input: ChargeInput, now: Millis): ChargeResult {
    const name = `free:${input.window}`;
    const { auth } = input;
    // The key record is read inside the same transaction as the charge: one atomic operation.
    const refuse = auth && ((): ChargeResult | undefined => {
      const row = this.get(this.sql.keyRecord, { account, collection: auth.collection, key: auth.key });
      const record = row && { tag: String(row.tag), expiresAt: intOrNull(row.expires_at), value: row.value as Uint8Array };
      return authMatches(record ?? null, auth, now) ? undefined : { ok: false, unauthorized: true };
    });
    const { voidable } = input;
    return this.money(account, now, (a): ChargeResult => {
      if (voidable && (tooLate(voidable) || this.get(this.sql.chargeRecord, { account, id: voidable.id }))) return { ok: false, voided: true };
      const u = input.usage;
      if (u?.keyId !== undefined) this.run(this.usageSql.keyUsed, { account, key_id: u.keyId, now });
      const used = this.counter(account, name, now);
      if (used < input.freeLimit) {
        this.run(this.sql.setCounter, { account, name, value: used + 1, expires_at: input.windowExpiresAt });
        if (voidable) this.run(this.sql.setCharge, { account, id: voidable.id, taken: 0, expires_at: voidable.until });
        if (u) this.count(account, u, now, [['free', 1]]);
        return { ok: true, free: true, freeUsed: used + 1, balance: a.balance };
      }
      if (input.price <= 0) return { ok: false, freeUsed: used, balance: a.balance };
      // A cap first, as the reference store: buying credit would not lift it. Its event commits with the refusal.
      const cap = capOver(input.caps, input.price, (counter) => this.counter(account, counter, now));
      if (cap >= 0) {
        this.write(account, cappedRows(input.events, cap), a.balance, now);
        return { ok: false, freeUsed: used, balance: a.balance, cap };
      }
      if (a.balance < input.price) return { ok: false, freeUsed: used, balance: a.balance };
      const entry = this.append(a, account, { amount: -input.price, kind: 'debit', memo: input.memo }, now);
      this.spend(account, input.caps, input.price, now);
      this.write(account, lowRows(input.events, a.balance + input.price, a.balance), a.balance, now);
      if (voidable) this.run(this.sql.setCharge, { account, id: voidable.id, taken: input.price, expires_at: voidable.until });
      if (u) this.count(account, u, now, [['paid', 1], ['spent', input.price]]);
      return { ok: true, free: false, freeUsed: used, balance: a.balance, entry };
    }, refuse);
  }

  void(account: string, input: VoidInput, now: Millis): VoidResult {
    return this.money(account, now, (a): VoidResult => {
      const row = this.get(this.sql.chargeRecord, { account, id: input.id });
      const record = row && { taken: int(row.taken), until: int(row.expires_at) };
      const taken = takenBy(record, now);
      if (taken === VOIDED) return { outcome: 'already', balance: a.balance };
      this.run(this.sql.setCharge, { account, id: input.id, taken: VOIDED, expires_at: Math.max(input.until, record?.until ?? 0) });
      if (taken !== undefined && input.usage) this.count(account, input.usage, now, [['refunds', 1], ['refunded', taken]]);
      if (taken === 0) {
        this.run(this.sql.giveBackFreeCall, { account, name: `free:${input.window}`, now });
        return { outcome: 'given_back', free: true, balance: a.balance, entry: null };
      }
      if (taken !== undefined) {
        const entry = this.append(a, account, { amount: taken, kind: 'refund', memo: input.memo }, now);
        this.giveBack(account, input.caps, -taken, now);
        this.write(account, input.events?.done, a.balance, now);
        return { outcome: 'given_back', free: false, balance: a.balance, entry };
      }
      const hold = this.get(this.sql.takeHold, { account, hold_id: input.id });
      if (!hold) return { outcome: 'refused', balance: a.balance };
      const entry = this.append(a, account, { amount: int(hold.amount), kind: 'release', reference: `hold:${input.id}`, memo: input.memo }, now);
      this.giveBack(account, input.caps, -int(hold.amount), now);
      return { outcome: 'given_back', free: false, balance: a.balance, entry };
    });
  }

  hold(account: string, input: HoldInput, now: Millis): HoldResult {
    return this.money(account, now, (a): HoldResult => {
      if (this.get(this.sql.chargeRecord, { account, id: input.holdId })) return { ok: false, reason: 'voided', balance: a.balance };
      if (this.get(this.sql.holdExists, { account, hold_id: input.holdId })) return { ok: false, reason: 'duplicate', balance: a.balance };
      const cap = capOver(input.caps, input.amount, (counter) => this.counter(account, counter, now));
      if (cap >= 0) {
        this.write(account, cappedRows(input.events, cap), a.balance, now);
        return { ok: false, reason: 'spend_cap', cap, balance: a.balance };
      }
      if (a.balance < input.amount) return { ok: false, reason: 'insufficient_funds', balance: a.balance };
      const entry = this.append(a, account, { amount: -input.amount, kind: 'hold', reference: `hold:${input.holdId}`, memo: input.memo }, now);
      this.run(this.sql.addHold, { account, hold_id: input.holdId, amount: input.amount, expires_at: input.expiresAt, created_seq: entry.seq });
      this.spend(account, input.caps, input.amount, now);
      this.write(account, lowRows(input.events, a.balance + input.amount, a.balance), a.balance, now);
      return { ok: true, balance: a.balance };
    });
  }

  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): SettleResult {
    return this.money(account, now, (a): SettleResult => {
      const hold = this.get(this.sql.takeHold, { account, hold_id: holdId });
      if (!hold) return { ok: false, reason: 'unknown_hold', balance: a.balance };
      const amount = int(hold.amount);
      // Beyond the hold, charge only what the balance covers: the balance never goes below 0.
      const charged = Math.min(actual, amount + a.balance);
      const back = amount - charged;
      const entry = back === 0 ? null : this.append(a, account, { amount: back, kind: 'settle', memo }, now);
      this.giveBack(account, caps, -back, now);
      if (usage) this.count(account, usage, now, charged > 0 ? [['paid', 1], ['spent', charged]] : []);
      return { ok: true, charged, balance: a.balance, entry };
    });
  }
}

function statements(t: TableNames) {
  return {
    account: `SELECT balance, seq FROM ${t.accounts} WHERE account = @account`,
    keyRecord: `SELECT tag, value, expires_at FROM ${t.records} WHERE account = @account AND collection = @collection AND key = @key`,
    saveAccount: `INSERT INTO ${t.accounts} (account, balance, seq) VALUES (@account, @balance, @seq)
      ON CONFLICT (account) DO UPDATE SET balance = excluded.balance, seq = excluded.seq`,
    expiredHolds: `SELECT hold_id, amount FROM ${t.holds} WHERE account = @account AND expires_at <= @now ORDER BY created_seq`,
    deleteExpiredHolds: `DELETE FROM ${t.holds} WHERE account = @account AND expires_at <= @now`,
    insertEntry: `INSERT INTO ${t.ledger} (account, seq, amount, kind, reference, memo, created_at, balance_after)
      VALUES (@account, @seq, @amount, @kind, @reference, @memo, @created_at, @balance_after)`,
    // Two probes, one per partial index (see the schema): a reference is used once across all kinds.
    referenceUsed: `SELECT 1 FROM ${t.ledger} WHERE account = @account AND reference = @reference AND kind NOT IN ('hold', 'release')
      UNION ALL SELECT 1 FROM ${t.ledger} WHERE account = @account AND reference = @reference AND kind IN ('hold', 'release') LIMIT 1`,
    counter: `SELECT value FROM ${t.counters} WHERE account = @account AND name = @name AND expires_at > @now`,
    setCounter: `INSERT INTO ${t.counters} (account, name, value, expires_at) VALUES (@account, @name, @value, @expires_at)
      ON CONFLICT (account, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    // A cap's counter: as `incr`, but its expiry only ever moves later.
    spend: `INSERT INTO ${t.counters} (account, name, value, expires_at) VALUES (@account, @name, @by, @expires_at)
      ON CONFLICT (account, name) DO UPDATE SET value = CASE WHEN expires_at > @now THEN value ELSE 0 END + excluded.value,
        expires_at = MAX(expires_at, excluded.expires_at)`,
    giveBack: `UPDATE ${t.counters} SET value = value + @delta WHERE account = @account AND name = @name AND expires_at > @now`,
    outbox: sqliteOutboxInsert(t),
    giveBackFreeCall: `UPDATE ${t.counters} SET value = value - 1
      WHERE account = @account AND name = @name AND expires_at > @now AND value > 0`,
    holdExists: `SELECT 1 AS found FROM ${t.holds} WHERE account = @account AND hold_id = @hold_id`,
    addHold: `INSERT INTO ${t.holds} (account, hold_id, amount, expires_at, created_seq)
      VALUES (@account, @hold_id, @amount, @expires_at, @created_seq)`,
    takeHold: `DELETE FROM ${t.holds} WHERE account = @account AND hold_id = @hold_id RETURNING amount`,
    chargeRecord: `SELECT taken, expires_at FROM ${t.charges} WHERE account = @account AND charge_id = @id`,
    setCharge: `INSERT INTO ${t.charges} (account, charge_id, taken, expires_at) VALUES (@account, @id, @taken, @expires_at)
      ON CONFLICT (account, charge_id) DO UPDATE SET taken = excluded.taken, expires_at = excluded.expires_at`,
  };
}
