// The webhook outbox on the SQL stores (Outbox in outbox.ts): one statement per operation, bound parameters only, for both dialects.
import type { Millis } from './contract.js';
import type { DeliveryOutcome, DeliveryQuery, DeliveryStatus, Outbox, OutboxDelivery, OutboxRow } from './outbox.js';
import { OUTBOX_KEEP_MS } from './outbox.js';
import type { SqlExec } from './sql-kv.js';
import type { Dialect, TableNames } from './sql-schema.js';
import { int, type Params, type Row } from './sql-rows.js';

const COLS = 'id, account, event_id, endpoint, type, data, balance, created_at, status, attempts, next_at, lease_until, last_error, updated_at';
/** Finished deliveries removed per sweep statement (bounds each statement's time and locks). */
const SWEEP_BATCH = 1000;

export function toDelivery(row: Row): OutboxDelivery {
  return {
    id: String(row.id), account: String(row.account), eventId: String(row.event_id), endpoint: String(row.endpoint), type: String(row.type),
    data: String(row.data), balance: int(row.balance), createdAt: int(row.created_at), status: String(row.status) as DeliveryStatus,
    attempts: int(row.attempts), nextAt: int(row.next_at), leaseUntil: int(row.lease_until),
    lastError: row.last_error === null || row.last_error === undefined ? null : String(row.last_error), updatedAt: int(row.updated_at),
  };
}

/**
 * SQLite's insert-once of one row (`@account, @id, @event_id, @endpoint, @type, @data, @balance, @now`), run by the money
 * transactions (sql-sqlite-money.ts) and by put (sql-kv.ts) inside their own transaction.
 */
export const sqliteOutboxInsert = (t: TableNames): string =>
  `INSERT INTO ${t.outbox} (${COLS}) VALUES (@id, @account, @event_id, @endpoint, @type, @data, @balance, @now, 'pending', 0, @now, 0, NULL, @now)
    ON CONFLICT (id) DO NOTHING`;

/** The parameters of `sqliteOutboxInsert` for one row. */
export const outboxInsertParams = (account: string, r: OutboxRow, balance: number, now: Millis): Params => ({
  id: r.id, account, event_id: r.eventId, endpoint: r.endpoint, type: r.type, data: r.data, balance, now,
});

function statements(t: TableNames, dialect: Dialect) {
  // Postgres: rows another worker's claim holds are skipped, not waited for; ARRAY(...) is an InitPlan, so the
  // locking subquery runs exactly once. SQLite: the single UPDATE holds the file's write lock from start to end.
  const due = `SELECT id FROM ${t.outbox} WHERE status = 'pending' AND next_at <= @now AND lease_until <= @now
    ORDER BY next_at, created_at LIMIT @limit`;
  const picked = dialect === 'postgres' ? `id = ANY(ARRAY(${due} FOR UPDATE SKIP LOCKED))` : `id IN (${due})`;
  const list = (status: boolean) => `SELECT ${COLS} FROM ${t.outbox}
    WHERE ${status ? 'status = @status AND ' : ''}(created_at, id) < (@at, @id) ORDER BY created_at DESC, id DESC LIMIT @limit`;
  return {
    // Postgres writes through the schema's function, the one the money functions call.
    insert: `SELECT ${t.outboxWrite}(@account, CAST(@rows AS jsonb), @balance, @now) AS n`,
    claim: `UPDATE ${t.outbox} SET attempts = attempts + 1, lease_until = @lease_until, updated_at = @now WHERE ${picked} RETURNING ${COLS}`,
    // COALESCE: a null parameter keeps the column (and gives Postgres the parameter's type).
    finish: `UPDATE ${t.outbox} SET status = @status, lease_until = 0, updated_at = @now,
        last_error = COALESCE(@error, last_error), next_at = COALESCE(@next_at, next_at)
      WHERE id = @id AND account = @account AND status = 'pending' AND attempts = @attempt`,
    list: list(false),
    listStatus: list(true),
    get: `SELECT ${COLS} FROM ${t.outbox} WHERE id = @id AND account = @account`,
    retry: `UPDATE ${t.outbox} SET status = 'pending', attempts = 0, next_at = @now, lease_until = 0, updated_at = @now
      WHERE id = @id AND account = @account`,
    sweep: `DELETE FROM ${t.outbox} WHERE id IN (
      SELECT id FROM ${t.outbox} WHERE status <> 'pending' AND updated_at <= @before LIMIT ${SWEEP_BATCH})`,
  };
}

/** The largest cursor: `list` without `before` starts from the newest delivery. */
const NEWEST = { at: Number.MAX_SAFE_INTEGER, id: '' };

export class SqlOutbox implements Outbox {
  private readonly sql: ReturnType<typeof statements>;

  constructor(private readonly x: Pick<SqlExec, 'all' | 'run'>, private readonly t: TableNames, private readonly dialect: Dialect) {
    this.sql = statements(t, dialect);
  }

  /**
   * Writes `rows` once by id for `account` (balance after the operation): the write the money operations make inside
   * their own transaction. On its own it is not atomic with anything: for tests and tools.
   */
  async insert(account: string, rows: readonly OutboxRow[], balance: number, now: Millis): Promise<number> {
    if (rows.length === 0) return 0;
    if (this.dialect === 'postgres') {
      const [row] = await this.x.all(this.sql.insert, { account, rows: JSON.stringify(rows), balance, now });
      return int(row!.n);
    }
    let n = 0;
    for (const r of rows) n += await this.x.run(sqliteOutboxInsert(this.t), outboxInsertParams(account, r, balance, now));
    return n;
  }

  async claim(now: Millis, leaseUntil: Millis, limit: number): Promise<OutboxDelivery[]> {
    const rows = await this.x.all(this.sql.claim, { now, lease_until: leaseUntil, limit });
    // RETURNING keeps no order: oldest due first, as claimed.
    return rows.map(toDelivery).sort((a, b) => a.nextAt - b.nextAt || a.createdAt - b.createdAt);
  }

  async finish(account: string, id: string, attempt: number, outcome: DeliveryOutcome, now: Millis): Promise<boolean> {
    const p = outcome.delivered
      ? { status: 'delivered', error: null, next_at: null }
      : { status: outcome.retryAt === null ? 'failed' : 'pending', error: outcome.error, next_at: outcome.retryAt };
    return (await this.x.run(this.sql.finish, { ...p, id, account, attempt, now })) > 0;
  }

  async list(query: DeliveryQuery): Promise<OutboxDelivery[]> {
    let cursor = NEWEST;
    if (query.before !== undefined) {
      // `${createdAt}:${id}`: ids may hold ':', the time never does.
      const i = query.before.indexOf(':');
      cursor = { at: Number(query.before.slice(0, i)), id: query.before.slice(i + 1) };
    }
    const p: Params = { at: cursor.at, id: cursor.id, limit: query.limit };
    if (query.status !== undefined) p.status = query.status;
    const rows = await this.x.all(query.status === undefined ? this.sql.list : this.sql.listStatus, p);
    return rows.map(toDelivery);
  }

  async get(account: string, id: string): Promise<OutboxDelivery | null> {
    const [row] = await this.x.all(this.sql.get, { account, id });
    return row ? toDelivery(row) : null;
  }

  async retry(account: string, id: string, now: Millis): Promise<boolean> {
    return (await this.x.run(this.sql.retry, { account, id, now })) > 0;
  }

  /** Deletes delivered and failed deliveries last updated OUTBOX_KEEP_MS ago or more, in batches; returns how many. */
  async sweep(now: Millis): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.x.run(this.sql.sweep, { before: now - OUTBOX_KEEP_MS });
      removed += n;
      if (n < SWEEP_BATCH) return removed;
    }
  }
}
