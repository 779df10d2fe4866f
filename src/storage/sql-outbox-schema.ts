// The webhook outbox's table, indexes and (Postgres) write function: part of the SQL schema (sql-schema.ts), kept apart for size.
import type { Dialect, TableNames } from './sql-schema.js';

/**
 * One row per delivery (OutboxDelivery). Times are epoch ms from the caller's clock, like every other table.
 * `id` sorts bytewise on both dialects (COLLATE "C" on Postgres), the order `list` and its cursor use (outbox.ts).
 * The Postgres function `outbox_write(account, rows jsonb, balance, now)` inserts rows once by id; the money
 * functions call it in their own transaction, SqlOutbox.insert calls it on its own.
 */
export function outboxStatements(
  dialect: Dialect,
  t: TableNames,
  ix: (name: string) => string,
  types: { text: string; int: string; sortedKey: string },
): string[] {
  const { text, int, sortedKey } = types;
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (
      id ${sortedKey} PRIMARY KEY, account ${text} NOT NULL, event_id ${text} NOT NULL, endpoint ${text} NOT NULL,
      type ${text} NOT NULL, data ${text} NOT NULL, balance ${int} NOT NULL, created_at ${int} NOT NULL,
      status ${text} NOT NULL, attempts ${int} NOT NULL, next_at ${int} NOT NULL, lease_until ${int} NOT NULL,
      last_error ${text}, updated_at ${int} NOT NULL)`,
  ];
  if (dialect === 'postgres') {
    out.push(`CREATE OR REPLACE FUNCTION ${t.outboxWrite}(p_account text, p_rows jsonb, p_balance bigint, p_now bigint)
      RETURNS integer LANGUAGE sql AS $fn$
        WITH ins AS (
          INSERT INTO ${t.outbox} (id, account, event_id, endpoint, type, data, balance, created_at, status, attempts, next_at, lease_until, last_error, updated_at)
          SELECT r.id, p_account, r."eventId", r.endpoint, r.type, r.data, p_balance, p_now, 'pending', 0, p_now, 0, NULL, p_now
          FROM jsonb_to_recordset(coalesce(p_rows, '[]'::jsonb)) AS r(id text, "eventId" text, endpoint text, type text, data text)
          ON CONFLICT (id) DO NOTHING
          RETURNING 1)
        SELECT count(*)::integer FROM ins
      $fn$`);
  }
  out.push(
    // The worker's claim: pending deliveries by due time (partial: delivered and failed ones stay out of it).
    `CREATE INDEX IF NOT EXISTS ${ix('outbox_due')} ON ${t.outbox} (next_at) WHERE status = 'pending'`,
    // The sweep of finished deliveries.
    `CREATE INDEX IF NOT EXISTS ${ix('outbox_finished')} ON ${t.outbox} (updated_at) WHERE status <> 'pending'`,
    // The admin list, newest first (createdAt, id), with or without a status. Kept last (Postgres checks it).
    `CREATE INDEX IF NOT EXISTS ${ix('outbox_created')} ON ${t.outbox} (created_at, id)`,
  );
  return out;
}
