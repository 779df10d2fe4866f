// Money operations on Postgres: each one is a single round trip running lock, hold release and the operation in one transaction.
import type {
  ChargeAuth, ChargeId, ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, VoidInput, VoidResult,
} from './contract.js';
import { postCounts, type UsageInput } from './usage.js';
import type { TableNames } from './sql-schema.js';
import { num, str } from './sql-postgres-literals.js';
import { postgresIncr, postgresUsage } from './sql-postgres-usage.js';
import { bool, int, intOrNull, toEntry, type Row } from './sql-rows.js';

/**
 * Runs several statements sent as ONE simple-protocol query: Postgres executes them as one
 * implicit transaction (all or nothing) and gives each statement a fresh snapshot. So the first
 * statement takes the account's row lock, and every later statement reads the state as of after
 * that lock: exact across processes, in one round trip. The simple protocol takes no parameters,
 * hence the literals below (strings through pg's escapeLiteral, numbers checked to be integers).
 */
export type MultiQuery = (sql: string) => Promise<Row[]>;

/**
 * The outcome of charge's API-key check, decided ONCE by the first statement and read by the later
 * ones: re-checking the record in each statement could let a later one see another answer than the
 * one that decided whether the account lock was taken. A transaction-local setting (set_config with
 * is_local) dies with the implicit transaction, so it never leaks to the next query on the connection.
 */
const AUTHED = `(current_setting('aipaygent.charge_auth', true) = 'on')`;

/** The server's clock in epoch ms: a charge reaching the server after its `voidable.until` is refused (see ChargeInput). */
const SERVER_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

const ENTRY_COLS = 'seq, amount, kind, reference, memo, created_at, balance_after';
const ENTRY_OUT = 'ins.seq AS e_seq, ins.amount AS e_amount, ins.kind AS e_kind, ins.reference AS e_reference, ins.memo AS e_memo, ins.created_at AS e_created_at, ins.balance_after AS e_balance_after';

/** The tag test of charge-auth.ts's tagAdmits, in SQL: the tag itself, or (with a scope) `tag;` and a list naming the scope. */
function tagAdmits(auth: ChargeAuth): string {
  if (!auth.scope) return `tag = ${str(auth.tag)}`;
  const head = str(`${auth.tag};`);
  return `(tag = ${str(auth.tag)} OR (starts_with(tag, ${head}) AND ${str(auth.scope)} = ANY(string_to_array(substr(tag, char_length(${head}) + 1), ','))))`;
}

export class PostgresMoney {
  constructor(private readonly query: MultiQuery, private readonly t: TableNames) {}

  /** Creates the account row if missing and locks it; `WHERE false` locks without writing a new row version. */
  private lock(a: string): string {
    return `INSERT INTO ${this.t.accounts} AS x (account, balance, seq) VALUES (${a}, 0, 0)
      ON CONFLICT (account) DO UPDATE SET seq = x.seq WHERE false`;
  }

  /**
   * The lock of an authenticated charge: taken (and the account row created) only when the live key
   * record has the tag and its value starts with the hash; the outcome is left in AUTHED. Comparing
   * digests with `=` is safe (see src/storage/charge-auth.ts); any hash but 32 bytes never matches.
   */
  private authLock(a: string, now: string, auth: ChargeAuth): string {
    const match = auth.hash.length !== 32 ? 'false' : `EXISTS (SELECT 1 FROM ${this.t.records}
        WHERE account = ${a} AND collection = ${str(auth.collection)} AND key = ${str(auth.key)} AND ${tagAdmits(auth)}
          AND (expires_at IS NULL OR expires_at > ${now}) AND substring(value FROM 1 FOR 32) = decode('${Buffer.from(auth.hash).toString('hex')}', 'hex'))`;
    return `WITH auth AS (SELECT set_config('aipaygent.charge_auth', CASE WHEN ${match} THEN 'on' ELSE 'off' END, true) AS v)
      INSERT INTO ${this.t.accounts} AS x (account, balance, seq) SELECT ${a}, 0, 0 FROM auth WHERE auth.v = 'on'
      ON CONFLICT (account) DO UPDATE SET seq = x.seq WHERE false`;
  }

  /** Releases every hold expired at `now`, oldest first, one 'release' entry each (as the reference store does). */
  private release(a: string, now: string, gate?: string): string {
    const t = this.t;
    return `WITH gone AS (
        DELETE FROM ${t.holds} WHERE account = ${a} AND expires_at <= ${now}${gate ? ` AND ${gate}` : ''} RETURNING hold_id, amount, created_seq
      ), r AS (
        SELECT hold_id, amount, row_number() OVER w AS n, sum(amount) OVER w AS run FROM gone WINDOW w AS (ORDER BY created_seq)
      ), acc AS (SELECT balance, seq FROM ${t.accounts} WHERE account = ${a}),
      ins AS (
        INSERT INTO ${t.ledger} (account, ${ENTRY_COLS})
        SELECT ${a}, acc.seq + r.n, r.amount, 'release', 'hold:' || r.hold_id, 'hold expired', ${now}, acc.balance + r.run FROM r, acc
      ), upd AS (
        UPDATE ${t.accounts} SET balance = balance + g.total, seq = seq + g.n
        FROM (SELECT sum(amount) AS total, count(*) AS n FROM gone) g WHERE account = ${a} AND g.n > 0
      )
      SELECT count(*) AS released FROM gone`;
  }

  /** CTEs appending one entry computed from the single row of CTE `ok(balance, seq)`, and moving the balance. */
  private append(a: string, now: string, amount: string, kind: string, reference: string | null, memo: string | null): string {
    return `ins AS (
        INSERT INTO ${this.t.ledger} (account, ${ENTRY_COLS})
        SELECT ${a}, ok.seq + 1, ${amount}, ${str(kind)}, ${str(reference)}, ${str(memo)}, ${now}, ok.balance + ${amount} FROM ok
        RETURNING ${ENTRY_COLS}
      ), upd AS (
        UPDATE ${this.t.accounts} SET balance = ins.balance_after, seq = ins.seq FROM ins WHERE account = ${a}
      )`;
  }

  private usage(a: string, now: string, u: UsageInput | undefined, q: Parameters<typeof postgresUsage>[4]): string {
    return postgresUsage(this.t, a, now, u, q);
  }

  /** Store.incr with usage (one statement: no account lock needed). */
  async incr(account: string, name: string, by: number, expiresAt: Millis, usage: UsageInput): Promise<number> {
    const [row] = await this.query(postgresIncr(this.t, account, name, by, expiresAt, Date.now(), usage));
    return int(row!.value);
  }

  /**
   * Lock, release expired holds, then `op`; returns the rows of `op` (the last statement). With
   * `auth`, every statement is gated on its outcome and `op` gets that gate (else the gate is 'true').
   */
  private async run(account: string, now: Millis, op: (a: string, now: string, gate: string) => string, auth?: ChargeAuth): Promise<Row> {
    const a = str(account);
    const n = num(now);
    const [lock, gate] = auth ? [this.authLock(a, n, auth), AUTHED] : [this.lock(a), undefined];
    const rows = await this.query(`${lock};\n${this.release(a, n, gate)};\n${op(a, n, gate ?? 'true')}`);
    return rows[0]!;
  }

  /** Releases expired holds of one account; returns how many. */
  async releaseExpired(account: string, now: Millis): Promise<number> {
    const a = str(account);
    const [row] = await this.query(`${this.lock(a)};\n${this.release(a, num(now))}`);
    return int(row!.released);
  }

  async balance(account: string, now: Millis): Promise<number> {
    const row = await this.run(account, now, (a) => `SELECT balance FROM ${this.t.accounts} WHERE account = ${a}`);
    return int(row.balance);
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    const t = this.t;
    const ref = input.reference ?? null;
    const m = num(input.amount);
    const row = await this.run(account, now, (a, n) => `WITH acc AS (SELECT balance, seq FROM ${t.accounts} WHERE account = ${a}),
      dup AS (SELECT ${ref === null ? 'false' : `EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = ${a} AND reference = ${str(ref)} AND kind NOT IN ('hold', 'release'))
        OR EXISTS (SELECT 1 FROM ${t.ledger} WHERE account = ${a} AND reference = ${str(ref)} AND kind IN ('hold', 'release'))`} AS d),
      ok AS (SELECT balance, seq FROM acc, dup WHERE NOT dup.d AND (${m} >= 0 OR balance + ${m} >= 0)),
      ${this.append(a, n, m, input.kind, ref, input.memo ?? null)}${this.usage(a, n, input.usage, {
        counted: [], applies: 'EXISTS (SELECT 1 FROM ins)', given: input.usage && postCounts(input.kind, input.amount, input.usage.add),
      })}
      SELECT acc.balance, dup.d AS dup, ${ENTRY_OUT} FROM acc CROSS JOIN dup LEFT JOIN ins ON true`);
    const balance = int(row.balance);
    if (row.e_seq !== null) return { ok: true, entry: toEntry(account, row, 'e_'), balance: int(row.e_balance_after) };
    return { ok: false, reason: bool(row.dup) ? 'duplicate' : 'insufficient_funds', balance };
  }

  /** The gate of a charge's id: unknown to the store (never voided nor used), and not arriving after its `until`. */
  private fresh(a: string, voidable: ChargeId | undefined): string {
    if (!voidable) return 'true';
    return `NOT EXISTS (SELECT 1 FROM ${this.t.charges} WHERE account = ${a} AND charge_id = ${str(voidable.id)}) AND ${SERVER_MS} <= ${num(voidable.until)}`;
  }

  /** A CTE remembering what the charge took under its id (0: the free call of `fr`, else the debit of `ins`). */
  private remember(a: string, voidable: ChargeId | undefined): string {
    if (!voidable) return '';
    const [id, until] = [str(voidable.id), num(voidable.until)];
    return `, rec AS (INSERT INTO ${this.t.charges} (account, charge_id, taken, expires_at)
        SELECT ${a}, ${id}, 0, ${until} FROM fr UNION ALL SELECT ${a}, ${id}, -ins.amount, ${until} FROM ins)`;
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const t = this.t;
    const [limit, price] = [num(input.freeLimit), num(input.price)];
    const name = str(`free:${input.window}`);
    // Unauthenticated (gate false) or a refused id (fresh false): acc and u are empty, so nothing below writes; g still yields the row.
    const row = await this.run(account, now, (a, n, gate) => `WITH g AS (SELECT ${gate} AS authed, ${this.fresh(a, input.voidable)} AS fresh),
      acc AS (SELECT balance, seq FROM ${t.accounts}, g WHERE account = ${a} AND g.authed AND g.fresh),
      u AS (SELECT COALESCE((SELECT value FROM ${t.counters} WHERE account = ${a} AND name = ${name} AND expires_at > ${n}), 0) AS used FROM g WHERE g.authed AND g.fresh),
      fr AS (
        INSERT INTO ${t.counters} AS c (account, name, value, expires_at)
        SELECT ${a}, ${name}, u.used + 1, ${num(input.windowExpiresAt)} FROM u WHERE u.used < ${limit}
        ON CONFLICT (account, name) DO UPDATE SET
          value = CASE WHEN c.expires_at > ${n} THEN c.value + 1 ELSE 1 END, expires_at = excluded.expires_at
        RETURNING value
      ),
      ok AS (SELECT balance, seq FROM acc, u WHERE u.used >= ${limit} AND ${price} > 0 AND balance >= ${price}),
      ${this.append(a, n, `-${price}`, 'debit', null, input.memo ?? null)}${this.remember(a, input.voidable)}${this.usage(a, n, input.usage, {
        counted: [`SELECT 'free', 1 FROM fr`, `SELECT 'paid', 1 FROM ins`, `SELECT 'spent', -ins.amount FROM ins`],
        applies: '(EXISTS (SELECT 1 FROM fr) OR EXISTS (SELECT 1 FROM ins))', keyUsed: 'FROM g WHERE g.authed AND g.fresh',
      })}
      SELECT g.authed, g.fresh, acc.balance, u.used, (SELECT value FROM fr) AS free_used, ${ENTRY_OUT}
      FROM g LEFT JOIN acc ON true LEFT JOIN u ON true LEFT JOIN ins ON true`, input.auth);
    if (!bool(row.authed)) return { ok: false, unauthorized: true };
    if (!bool(row.fresh)) return { ok: false, voided: true };
    const freeUsed = intOrNull(row.free_used);
    if (freeUsed !== null) return { ok: true, free: true, freeUsed, balance: int(row.balance) };
    const used = int(row.used);
    if (row.e_seq === null) return { ok: false, freeUsed: used, balance: int(row.balance) };
    const entry: LedgerEntry = toEntry(account, row, 'e_');
    return { ok: true, free: false, freeUsed: used, balance: entry.balanceAfter, entry };
  }

  /**
   * Undoes the charge or hold `input.id` once, in one statement: a live record of a free call gives the call
   * back, of a debit posts a 'refund'; with no record, a live hold of that id is released; then the id is
   * marked voided (-1). A record already voided changes nothing.
   */
  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    const t = this.t;
    const id = str(input.id);
    const row = await this.run(account, now, (a, n) => `WITH acc AS (SELECT balance, seq FROM ${t.accounts} WHERE account = ${a}),
      live AS (SELECT taken, expires_at FROM ${t.charges} WHERE account = ${a} AND charge_id = ${id} AND expires_at > ${n}),
      fb AS (UPDATE ${t.counters} SET value = value - 1 WHERE account = ${a} AND name = ${str(`free:${input.window}`)}
        AND expires_at > ${n} AND value > 0 AND EXISTS (SELECT 1 FROM live WHERE taken = 0)),
      h AS (DELETE FROM ${t.holds} WHERE account = ${a} AND hold_id = ${id} AND NOT EXISTS (SELECT 1 FROM live) RETURNING amount),
      back AS (SELECT taken AS amount, 'refund' AS kind, NULL::text AS reference FROM live WHERE taken > 0
        UNION ALL SELECT amount, 'release', ${str(`hold:${input.id}`)} FROM h),
      ins AS (
        INSERT INTO ${t.ledger} (account, ${ENTRY_COLS})
        SELECT ${a}, acc.seq + 1, back.amount, back.kind, back.reference, ${str(input.memo)}, ${n}, acc.balance + back.amount FROM acc, back
        RETURNING ${ENTRY_COLS}
      ), upd AS (
        UPDATE ${t.accounts} SET balance = ins.balance_after, seq = ins.seq FROM ins WHERE account = ${a}
      ), mark AS (
        INSERT INTO ${t.charges} AS c (account, charge_id, taken, expires_at)
        SELECT ${a}, ${id}, -1, GREATEST(${num(input.until)}, (SELECT expires_at FROM live)) WHERE NOT EXISTS (SELECT 1 FROM live WHERE taken = -1)
        ON CONFLICT (account, charge_id) DO UPDATE SET taken = -1, expires_at = excluded.expires_at
      )${this.usage(a, n, input.usage, {
        counted: [`SELECT 'refunds', 1 FROM live WHERE taken >= 0`, `SELECT 'refunded', taken FROM live WHERE taken > 0`],
        applies: 'EXISTS (SELECT 1 FROM live WHERE taken >= 0)',
      })}
      SELECT (SELECT taken FROM live) AS taken, acc.balance, ${ENTRY_OUT} FROM acc LEFT JOIN ins ON true`);
    const taken = intOrNull(row.taken);
    const balance = row.e_seq === null ? int(row.balance) : int(row.e_balance_after);
    if (taken === -1) return { outcome: 'already', balance };
    if (taken === 0) return { outcome: 'given_back', free: true, balance, entry: null };
    if (row.e_seq === null) return { outcome: 'refused', balance };
    return { outcome: 'given_back', free: false, balance, entry: toEntry(account, row, 'e_') };
  }

  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    const t = this.t;
    const [id, amount] = [str(input.holdId), num(input.amount)];
    const row = await this.run(account, now, (a, n) => `WITH acc AS (SELECT balance, seq FROM ${t.accounts} WHERE account = ${a}),
      ex AS (SELECT EXISTS (SELECT 1 FROM ${t.holds} WHERE account = ${a} AND hold_id = ${id}) AS d,
        EXISTS (SELECT 1 FROM ${t.charges} WHERE account = ${a} AND charge_id = ${id}) AS v),
      ok AS (SELECT balance, seq FROM acc, ex WHERE NOT ex.d AND NOT ex.v AND balance >= ${amount}),
      ${this.append(a, n, `-${amount}`, 'hold', `hold:${input.holdId}`, input.memo ?? null)},
      h AS (INSERT INTO ${t.holds} (account, hold_id, amount, expires_at, created_seq)
        SELECT ${a}, ${id}, ${amount}, ${num(input.expiresAt)}, ins.seq FROM ins)
      SELECT acc.balance, ex.d AS dup, ex.v AS voided, ${ENTRY_OUT} FROM acc CROSS JOIN ex LEFT JOIN ins ON true`);
    if (row.e_seq !== null) return { ok: true, balance: int(row.e_balance_after) };
    const reason = bool(row.voided) ? 'voided' : bool(row.dup) ? 'duplicate' : 'insufficient_funds';
    return { ok: false, reason, balance: int(row.balance) };
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput): Promise<SettleResult> {
    const t = this.t;
    const row = await this.run(account, now, (a, n) => `WITH acc AS (SELECT balance, seq FROM ${t.accounts} WHERE account = ${a}),
      h AS (DELETE FROM ${t.holds} WHERE account = ${a} AND hold_id = ${str(holdId)} RETURNING amount),
      -- Beyond the hold, charge only what the balance covers: the balance never goes below 0.
      calc AS (SELECT acc.balance, acc.seq, h.amount AS held, h.amount - LEAST(${num(actual)}, h.amount + acc.balance) AS back FROM acc, h),
      ok AS (SELECT balance, seq, back FROM calc WHERE back <> 0),
      ${this.append(a, n, 'ok.back', 'settle', null, memo ?? null)}${this.usage(a, n, usage, {
        counted: [`SELECT 'paid', 1 FROM calc WHERE held > back`, `SELECT 'spent', held - back FROM calc WHERE held > back`],
        applies: 'EXISTS (SELECT 1 FROM calc)',
      })}
      SELECT acc.balance, (SELECT amount FROM h) AS held, (SELECT back FROM calc) AS back, ${ENTRY_OUT}
      FROM acc LEFT JOIN ins ON true`);
    if (row.held === null) return { ok: false, reason: 'unknown_hold', balance: int(row.balance) };
    const back = int(row.back);
    const charged = int(row.held) - back;
    if (row.e_seq === null) return { ok: true, charged, balance: int(row.balance), entry: null };
    const entry = toEntry(account, row, 'e_');
    return { ok: true, charged, balance: entry.balanceAfter, entry };
  }
}
