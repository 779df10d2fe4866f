// The native SQLite implementation of the storage contract: one database file, shared exactly by several processes.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Keyv } from 'keyv';
import type { Millis, Store, StoreInfo } from './contract.js';
import { SqlKv, type SqlExec, type Steps } from './sql-kv.js';
import { SqlOutbox } from './sql-outbox.js';
import type { Params, Row } from './sql-rows.js';
import { schemaStatements, sqliteSearchStatements, sqlNamespace, tableNames } from './sql-schema.js';
import { sqliteSearch } from './sql-search.js';
import { SqliteMoney } from './sql-sqlite-money.js';
import { SqlStoreBase } from './sql-store-base.js';
import { SqlUsage } from './sql-usage.js';
import { startSweeper, type SqlStoreOptions } from './sql-sweeper.js';

const MEMORY = ':memory:';

/**
 * better-sqlite3 is synchronous: every call runs to completion before the next one starts, so
 * inside one process nothing interleaves, and across processes WAL mode plus IMMEDIATE
 * transactions plus `busy_timeout` keep the file exact. The price: a call waiting on another
 * process's write lock blocks this event loop for up to `timeoutMs`.
 */
export class SqliteStore extends SqlStoreBase<SqliteMoney> implements Store {
  readonly info: StoreInfo;
  readonly namespace: string;
  private readonly statements = new Map<string, Database.Statement>();
  protected readonly kv: SqlKv;
  protected readonly money: SqliteMoney;
  protected readonly usageReads: SqlUsage;
  readonly outbox: SqlOutbox;
  private stopSweeper: () => void = () => {};

  constructor(private readonly db: Database.Database, private readonly opts: SqlStoreOptions) {
    super();
    // An in-memory database lives in this process only: nothing to share with another one.
    this.info = { backend: 'sqlite', multiProcess: !db.memory, chargeAuth: true, inProcess: true, usage: true, outbox: true };
    this.namespace = sqlNamespace(opts.prefix);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.timeoutMs))}`);
    // WAL: readers never block the writer and vice versa; the setting is stored in the file itself.
    if (!db.memory) db.pragma('journal_mode = WAL');
    const t = tableNames('sqlite', this.namespace);
    const prepare = (sql: string) => this.prepare(sql);
    // Steps run synchronously inside one IMMEDIATE transaction: nothing of this process interleaves, no other process writes.
    const atomic = db.transaction((steps: Steps<unknown>) => {
      let step = steps.next();
      while (!step.done) {
        const statement = prepare(step.value.sql);
        step = steps.next(statement.reader ? (statement.all(step.value.params) as Row[]) : (statement.run(step.value.params), []));
      }
      return step.value;
    });
    const exec: SqlExec = {
      all: async (sql: string, params: Params) => prepare(sql).all(params) as Row[],
      run: async (sql: string, params: Params) => prepare(sql).run(params).changes,
      dataModifyingCte: false,
      search: sqliteSearch,
      atomic: <T>(steps: Steps<T>) => atomic.immediate(steps) as T,
    };
    this.kv = new SqlKv(exec, t);
    this.usageReads = new SqlUsage(exec, t);
    // Each outbox operation is one statement, so one transaction holding the file's write lock: a claim is atomic across processes.
    this.outbox = new SqlOutbox(exec, t, 'sqlite');
    this.money = new SqliteMoney(db, prepare, t);
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async init(): Promise<void> {
    // IMMEDIATE: processes starting together migrate one after the other.
    this.db.transaction(() => {
      for (const statement of schemaStatements('sqlite', this.namespace)) this.db.exec(statement);
      // Added to files made before search existed (SQLite has no ADD COLUMN IF NOT EXISTS); their rows
      // have no document, so they are not searchable until rewritten.
      const records = tableNames('sqlite', this.namespace).records;
      const columns = this.db.prepare(`SELECT name FROM pragma_table_info(${records.replace(/"/g, "'")})`).pluck().all();
      if (!columns.includes('search')) this.db.exec(`ALTER TABLE ${records} ADD COLUMN search TEXT`);
      for (const statement of sqliteSearchStatements(this.namespace)) this.db.exec(statement);
    }).immediate();
    this.stopSweeper();
    this.stopSweeper = startSweeper((now) => this.sweep(now), this.opts.sweepIntervalMs);
  }

  async sweep(now: Millis): Promise<{ records: number; holds: number }> {
    const records = await this.kv.sweepExpired(now);
    await this.usageReads.sweep(now);
    await this.outbox.sweep(now);
    let holds = 0;
    for (;;) {
      let released = 0;
      for (const account of await this.kv.accountsWithExpiredHolds(now)) released += this.money.releaseExpired(account, now);
      holds += released;
      if (released === 0) break;
    }
    return { records, holds };
  }

  async close(): Promise<void> {
    this.stopSweeper();
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating it and its directory if needed) the database file; `:memory:` stays in this process. */
function openDatabase(file: string): Database.Database {
  if (file !== MEMORY) mkdirSync(dirname(resolve(file)), { recursive: true });
  return new Database(file);
}

/**
 * Opens the store on `sqlite://relative/path.db`, `sqlite:///abs/path.db` or `sqlite://:memory:`.
 * Call `init()` before use.
 */
export async function sqliteStoreFromUrl(url: string, opts: SqlStoreOptions): Promise<Store> {
  const file = url.replace(/^sqlite:\/\//, '');
  if (file === '') throw new Error('sqlite store: the URL names no file (use sqlite://path/to/file.db or sqlite://:memory:)');
  return new SqliteStore(openDatabase(file), opts);
}

/**
 * Opens the store on the database file of a host's `@keyv/sqlite` instance (its `opts.db`), with
 * our own better-sqlite3 connection. A Keyv on `:memory:` cannot be shared: we open our own.
 */
export async function sqliteStoreFromKeyv(keyv: Keyv, opts: SqlStoreOptions): Promise<Store> {
  const file = (keyv.store as { opts?: { db?: unknown } }).opts?.db;
  if (typeof file !== 'string' || file === '') throw new Error('sqlite store: the Keyv adapter has no database file in its options');
  return new SqliteStore(openDatabase(file), opts);
}
