// The SQL table shape shared by the Postgres and SQLite stores, and its idempotent migration text per dialect.
import { outboxStatements } from './sql-outbox-schema.js';

/** Fully qualified (Postgres) or prefixed (SQLite) table names, ready to paste into SQL. */
export interface TableNames {
  records: string;
  accounts: string;
  ledger: string;
  holds: string;
  counters: string;
  claims: string;
  charges: string;
  /** Usage counters (account, hour bucket, counter) and the last use of each API key (see UsageInput). */
  usage: string;
  keyUse: string;
  /** SQLite's FTS5 table of the records' search documents (Postgres keeps them in `records.search`). */
  search: string;
  /** The webhook outbox's deliveries (sql-outbox.ts). */
  outbox: string;
  /** Postgres only: the function that writes outbox rows, for the money functions (sql-outbox.ts). */
  outboxWrite: string;
}

export type Dialect = 'postgres' | 'sqlite';

/** Column types that differ between the dialects; everything else is written once. */
const TYPES: Record<Dialect, { text: string; int: string; bytes: string; sortedKey: string }> = {
  // COLLATE "C" makes ORDER BY / range scans compare UTF-8 bytes, like the other backends.
  postgres: { text: 'text', int: 'bigint', bytes: 'bytea', sortedKey: 'text COLLATE "C"' },
  // SQLite's default BINARY collation already compares UTF-8 bytes (memcmp).
  sqlite: { text: 'TEXT', int: 'INTEGER', bytes: 'BLOB', sortedKey: 'TEXT' },
};

/**
 * Turns the store's `prefix` option into a safe SQL identifier part: `aipaygent:` -> `aipaygent`.
 * Postgres uses it as the schema name, SQLite as a table-name prefix.
 */
export function sqlNamespace(prefix: string): string {
  const name = prefix.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'aipaygent';
  // Postgres truncates identifiers at 63 bytes; SQLite appends table names to the prefix.
  if (name.length > 48) throw new Error(`store prefix too long for a SQL name: "${prefix}" (max 48 characters)`);
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Table names: `"schema".records` on Postgres, `prefix_records` on SQLite. */
export function tableNames(dialect: Dialect, namespace: string): TableNames {
  const name = (table: string) => (dialect === 'postgres' ? `"${namespace}".${table}` : `"${namespace}_${table}"`);
  return {
    records: name('records'),
    accounts: name('accounts'),
    ledger: name('ledger'),
    holds: name('holds'),
    counters: name('counters'),
    claims: name('claims'),
    charges: name('charges'),
    usage: name('usage_counts'),
    keyUse: name('key_use'),
    search: name('search'),
    outbox: name('outbox'),
    outboxWrite: name('outbox_write'),
  };
}

/**
 * The migration, one statement per entry, every one idempotent (IF NOT EXISTS). Times are epoch
 * milliseconds (BIGINT) because every expiry decision uses the caller's `now`, never the DB clock.
 */
export function schemaStatements(dialect: Dialect, namespace: string): string[] {
  const t = tableNames(dialect, namespace);
  const { text, int, bytes, sortedKey } = TYPES[dialect];
  // SQLite index names are global to the file; Postgres ones live in the table's schema.
  const ix = (name: string) => (dialect === 'postgres' ? name : `"${namespace}_${name}"`);
  const out: string[] = [];
  if (dialect === 'postgres') out.push(`CREATE SCHEMA IF NOT EXISTS "${namespace}"`);
  out.push(
    `CREATE TABLE IF NOT EXISTS ${t.records} (
      account ${text} NOT NULL, collection ${text} NOT NULL, key ${sortedKey} NOT NULL,
      value ${bytes} NOT NULL, version ${int} NOT NULL, size ${int} NOT NULL, tag ${text} NOT NULL,
      created_at ${int} NOT NULL, updated_at ${int} NOT NULL, expires_at ${int},
      PRIMARY KEY (account, collection, key))`,
    `CREATE INDEX IF NOT EXISTS ${ix('records_expiry')} ON ${t.records} (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${t.accounts} (
      account ${text} PRIMARY KEY, balance ${int} NOT NULL, seq ${int} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.ledger} (
      account ${text} NOT NULL, seq ${int} NOT NULL, amount ${int} NOT NULL, kind ${text} NOT NULL,
      reference ${text}, memo ${text}, created_at ${int} NOT NULL, balance_after ${int} NOT NULL,
      PRIMARY KEY (account, seq))`,
    // Insert-once references. A hold's 'hold' and 'release' entries share the reference `hold:<id>`
    // (as in the reference implementation) and a settled hold id may be reused, so those two kinds
    // are indexed apart; the store checks both indexes under the account lock before any append.
    `CREATE UNIQUE INDEX IF NOT EXISTS ${ix('ledger_reference')} ON ${t.ledger} (account, reference)
      WHERE kind NOT IN ('hold', 'release')`,
    `CREATE INDEX IF NOT EXISTS ${ix('ledger_hold_reference')} ON ${t.ledger} (account, reference)
      WHERE kind IN ('hold', 'release')`,
    // created_seq (the ledger seq of the 'hold' entry) orders releases like the reference store.
    `CREATE TABLE IF NOT EXISTS ${t.holds} (
      account ${text} NOT NULL, hold_id ${text} NOT NULL, amount ${int} NOT NULL, expires_at ${int} NOT NULL,
      created_seq ${int} NOT NULL, PRIMARY KEY (account, hold_id))`,
    `CREATE INDEX IF NOT EXISTS ${ix('holds_expiry')} ON ${t.holds} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.counters} (
      account ${text} NOT NULL, name ${text} NOT NULL, value ${int} NOT NULL, expires_at ${int} NOT NULL,
      PRIMARY KEY (account, name))`,
    `CREATE INDEX IF NOT EXISTS ${ix('counters_expiry')} ON ${t.counters} (expires_at)`,
    // scope '' is the global scope (account ids are never empty).
    `CREATE TABLE IF NOT EXISTS ${t.claims} (
      scope ${text} NOT NULL, key ${text} NOT NULL, value ${text} NOT NULL, expires_at ${int},
      PRIMARY KEY (scope, key))`,
    `CREATE INDEX IF NOT EXISTS ${ix('claims_expiry')} ON ${t.claims} (expires_at) WHERE expires_at IS NOT NULL`,
    // Charge ids (see Store.void): taken 0 = a free call, > 0 = the price debited, -1 = voided; swept after expires_at.
    // Kept last: a schema created before this table existed lacks its index, so the migration runs again.
    `CREATE TABLE IF NOT EXISTS ${t.charges} (
      account ${text} NOT NULL, charge_id ${text} NOT NULL, taken ${int} NOT NULL, expires_at ${int} NOT NULL,
      PRIMARY KEY (account, charge_id))`,
    `CREATE INDEX IF NOT EXISTS ${ix('charges_expiry')} ON ${t.charges} (expires_at)`,
  );
  // Search documents (see sql-search.ts). Kept last, as the charges above: Postgres checks the last index.
  if (dialect === 'postgres') {
    out.push(
      // Rows written before this column existed have no document: not searchable until rewritten.
      `ALTER TABLE ${t.records} ADD COLUMN IF NOT EXISTS search tsvector`,
      // Partial: records without a document (keys, history, other collections) stay out of the index.
      `CREATE INDEX IF NOT EXISTS records_search ON ${t.records} USING gin (search) WHERE search IS NOT NULL`,
    );
  }
  // Usage counters (see UsageInput): one row per account, hour bucket and counter; swept after expires_at. Kept last, as
  // the objects above: a schema made before usage existed lacks the last index, so Postgres runs the migration again.
  out.push(
    `CREATE TABLE IF NOT EXISTS ${t.keyUse} (
      account ${text} NOT NULL, key_id ${text} NOT NULL, used_at ${int} NOT NULL, PRIMARY KEY (account, key_id))`,
    `CREATE TABLE IF NOT EXISTS ${t.usage} (
      account ${text} NOT NULL, bucket ${sortedKey} NOT NULL, field ${text} NOT NULL, value ${int} NOT NULL, expires_at ${int} NOT NULL,
      PRIMARY KEY (account, bucket, field))`,
    `CREATE INDEX IF NOT EXISTS ${ix('usage_counts_expiry')} ON ${t.usage} (expires_at)`,
  );
  // The webhook outbox (sql-outbox.ts). Kept last, as the objects above: its last index tells Postgres the schema is complete.
  out.push(...outboxStatements(dialect, t, ix, TYPES[dialect]));
  return out;
}

/**
 * SQLite's search objects, created after `ALTER TABLE records ADD COLUMN search TEXT` (SQLite has no
 * ADD COLUMN IF NOT EXISTS: the store adds it when missing). A contentless FTS5 table (rows deletable by
 * rowid, SQLite >= 3.43) indexes each record's document (`records.search`) under the record's rowid, with
 * a second column holding one scope token per record (its account and collection in hex), so that a search
 * reads only its collection's entries instead of every account's (sql-search.ts). The triggers update it in
 * the statement that writes or deletes the record, so put, delete, purge and sweep keep it in step; only a
 * changed document touches the index.
 */
export function sqliteSearchStatements(namespace: string): string[] {
  const t = tableNames('sqlite', namespace);
  const trigger = (name: string) => `"${namespace}_records_search_${name}"`;
  const remove = `DELETE FROM ${t.search} WHERE rowid = old.rowid AND old.search IS NOT NULL`;
  const add = `INSERT INTO ${t.search} (rowid, search, scope)
    SELECT new.rowid, new.search, ${SCOPE_SQL} WHERE new.search IS NOT NULL`;
  return [
    // ascii: splits on ASCII spaces and punctuation only; the terms come folded and stemmed from Node.
    `CREATE VIRTUAL TABLE IF NOT EXISTS ${t.search} USING fts5(search, scope, content='', contentless_delete=1, tokenize='ascii')`,
    `CREATE TRIGGER IF NOT EXISTS ${trigger('insert')} AFTER INSERT ON ${t.records} WHEN new.search IS NOT NULL BEGIN ${add}; END`,
    `CREATE TRIGGER IF NOT EXISTS ${trigger('delete')} AFTER DELETE ON ${t.records} WHEN old.search IS NOT NULL BEGIN ${remove}; END`,
    `CREATE TRIGGER IF NOT EXISTS ${trigger('update')} AFTER UPDATE OF search ON ${t.records}
      WHEN old.search IS NOT new.search BEGIN ${remove}; ${add}; END`,
  ];
}

/** The scope token of a record (SQL, on `new`): hex of its account's and collection's UTF-8 bytes, joined by x. */
const SCOPE_SQL = `hex(new.account) || 'x' || hex(new.collection)`;

/** The same token in Node, for queries (the ascii tokenizer folds SQLite's upper-case hex to lower case). */
export const scopeToken = (account: string, collection: string): string =>
  `${Buffer.from(account).toString('hex')}x${Buffer.from(collection).toString('hex')}`;
