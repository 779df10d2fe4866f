// The Postgres store's versioned migration: tables (idempotent DDL) and the money functions, under an advisory lock.
import type pg from 'pg';
import { moneyFunctions } from './sql-postgres-functions.js';
import { functionDdl, FUNCTIONS_VERSION } from './sql-postgres-plpgsql.js';
import { schemaStatements, tableNames } from './sql-schema.js';

/** Arbitrary class id of our migration advisory lock; the second key is the schema name's hash. */
const MIGRATION_LOCK = 0x61706700;

/** The schema's version row: which FUNCTIONS_VERSION last migrated it (absent: a schema from before the functions). */
const versionTable = (namespace: string) => `"${namespace}".schema_version`;

/**
 * Processes starting together migrate one at a time, under an advisory lock. A schema at the current version (or
 * a newer one: a later release migrated it, and its functions still take our calls) runs no DDL at all: CREATE
 * INDEX takes a SHARE lock on its table even when the index exists, which would deadlock against other
 * processes' money transactions. Otherwise everything runs again, in one transaction: the tables' IF NOT EXISTS
 * statements, then every function of ours dropped (a changed signature would otherwise stay as an overload) and
 * created, then the version row. A schema with the tables but no functions (the releases before them) gets them.
 */
export async function migratePostgres(pool: pg.Pool, namespace: string): Promise<void> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, namespace]);
    if ((await schemaVersion(client, namespace)) < FUNCTIONS_VERSION) {
      await client.query(schemaStatements('postgres', namespace).join(';\n'));
      await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable(namespace)} (name text PRIMARY KEY, version bigint NOT NULL)`);
      const stale = await client.query<{ f: string }>(
        `SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.pronamespace = to_regnamespace($1) AND p.proname LIKE 'apg\\_%'`,
        [`"${namespace}"`],
      );
      for (const { f } of stale.rows) await client.query(`DROP FUNCTION ${f}`);
      const t = tableNames('postgres', namespace);
      for (const spec of Object.values(moneyFunctions(t))) await client.query(functionDdl(namespace, spec));
      await client.query(
        `INSERT INTO ${versionTable(namespace)} (name, version) VALUES ('functions', $1) ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
        [FUNCTIONS_VERSION],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    failure = error;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // A client that failed mid-transaction is discarded rather than reused.
    client.release(failure instanceof Error ? failure : undefined);
  }
}

/** The schema's version: 0 when it has no version table (new, or made by a release before the functions). */
async function schemaVersion(client: pg.PoolClient, namespace: string): Promise<number> {
  const exists = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [versionTable(namespace)]);
  if (!exists.rows[0]!.ok) return 0;
  const row = await client.query<{ version: string }>(`SELECT version FROM ${versionTable(namespace)} WHERE name = 'functions'`);
  return row.rows.length ? Number(row.rows[0]!.version) : 0;
}
