// Usage counters on the SQL stores: the reads and the sweep (both dialects), and the statements SQLite counts with inside its money transactions.
import type { Millis } from './contract.js';
import type { SqlExec } from './sql-kv.js';
import type { TableNames } from './sql-schema.js';
import { int } from './sql-rows.js';
import { newTally, type UsageBucket } from './usage.js';

const SWEEP_BATCH = 1000;

export class SqlUsage {
  private readonly sql: ReturnType<typeof statements>;

  constructor(private readonly x: SqlExec, t: TableNames) {
    this.sql = statements(t);
  }

  async usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    const rows = await this.x.all(this.sql.usage, { account, from, to, now });
    const out: UsageBucket[] = [];
    for (const row of rows) {
      const bucket = String(row.bucket);
      if (out.at(-1)?.bucket !== bucket) out.push({ bucket, fields: newTally() });
      out.at(-1)!.fields[String(row.field)] = int(row.value);
    }
    return out.map((b) => ({ bucket: b.bucket, fields: { ...b.fields } }));
  }

  async lastUsed(account: string): Promise<Record<string, Millis>> {
    const rows = await this.x.all(this.sql.lastUsed, { account });
    return Object.fromEntries(rows.map((row) => [String(row.key_id), int(row.used_at)]));
  }

  /** Physically deletes expired usage rows in batches; returns how many. */
  async sweep(now: Millis): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.x.run(this.sql.sweep, { now });
      removed += n;
      if (n < SWEEP_BATCH) return removed;
    }
  }
}

function statements(t: TableNames) {
  return {
    usage: `SELECT bucket, field, value FROM ${t.usage}
      WHERE account = @account AND bucket >= @from AND bucket <= @to AND expires_at > @now ORDER BY bucket, field`,
    lastUsed: `SELECT key_id, used_at FROM ${t.keyUse} WHERE account = @account`,
    sweep: `DELETE FROM ${t.usage} WHERE (account, bucket, field) IN (SELECT account, bucket, field FROM ${t.usage} WHERE expires_at <= @now LIMIT ${SWEEP_BATCH})`,
  };
}

/** SQLite's counting statements (run inside the money transaction of the operation they count). */
export function sqliteUsageStatements(t: TableNames) {
  return {
    count: `INSERT INTO ${t.usage} (account, bucket, field, value, expires_at) VALUES (@account, @bucket, @field, @n, @expires_at)
      ON CONFLICT (account, bucket, field) DO UPDATE SET
        value = CASE WHEN expires_at > @now THEN value ELSE 0 END + excluded.value, expires_at = MAX(expires_at, excluded.expires_at)`,
    keyUsed: `INSERT INTO ${t.keyUse} (account, key_id, used_at) VALUES (@account, @key_id, @now)
      ON CONFLICT (account, key_id) DO UPDATE SET used_at = MAX(used_at, excluded.used_at)`,
  };
}
