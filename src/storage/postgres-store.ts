// The native Postgres implementation of the storage contract: our own tables in our own schema, exact across processes.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Keyv } from 'keyv';
import { StoreRefusedValueError } from '../errors.js';
import type { Millis, Store, StoreInfo } from './contract.js';
import { SqlKv, type SqlExec } from './sql-kv.js';
import { SqlOutbox } from './sql-outbox.js';
import { PostgresMoney } from './sql-postgres-money.js';
import { migratePostgres } from './postgres-migrate.js';
import { compileForPostgres, type Params, type Row } from './sql-rows.js';
import { sqlNamespace, tableNames } from './sql-schema.js';
import { postgresSearch } from './sql-search.js';
import { SqlStoreBase } from './sql-store-base.js';
import { SqlUsage } from './sql-usage.js';
import { startSweeper, type SqlStoreOptions } from './sql-sweeper.js';

/**
 * SQLSTATE class 22 (data exception: text the database cannot encode, a number out of range...) is
 * about the value sent, not about the backend: a 400, never a 503 (see StoreRefusedValueError).
 */
function refusedValue(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && code.startsWith('22') ? new StoreRefusedValueError(error) : error;
}

/**
 * Every statement is a named prepared statement with bound parameters (parsed and planned once per
 * connection): records, counters and claims single statements, money operations one function call
 * each (see PostgresMoney), so no value is ever written into SQL text. The store owns its
 * pg.Pool, also when it was derived from a host's Keyv instance, and closes only that pool.
 */
export class PostgresStore extends SqlStoreBase<PostgresMoney> implements Store {
  readonly info: StoreInfo = { backend: 'postgres', multiProcess: true, chargeAuth: true, usage: true, outbox: true };
  readonly namespace: string;
  protected readonly kv: SqlKv;
  protected readonly money: PostgresMoney;
  protected readonly usageReads: SqlUsage;
  /**
   * The outbox's worker operations and reads. Its rows are written by the money functions and by put, in their own
   * statement, through the schema's outbox_write (as SqlOutbox.insert does).
   */
  readonly outbox: SqlOutbox;
  private readonly prepared = new Map<string, { name: string; text: string; names: string[] }>();
  private stopSweeper: () => void = () => {};
  private closed = false;

  constructor(private readonly pool: pg.Pool, private readonly opts: SqlStoreOptions) {
    super();
    this.namespace = sqlNamespace(opts.prefix);
    const t = tableNames('postgres', this.namespace);
    // try/catch, not .catch(): nothing more is allocated on the usual path.
    const exec: SqlExec = {
      all: async (sql, params) => {
        try {
          return (await this.exec(sql, params)).rows;
        } catch (error) {
          throw refusedValue(error);
        }
      },
      run: async (sql, params) => {
        try {
          return (await this.exec(sql, params)).rowCount ?? 0;
        } catch (error) {
          throw refusedValue(error);
        }
      },
      dataModifyingCte: true,
      search: postgresSearch,
    };
    this.kv = new SqlKv(exec, t);
    this.usageReads = new SqlUsage(exec, t);
    this.outbox = new SqlOutbox(exec, t, 'postgres');
    this.money = new PostgresMoney(exec.all, this.namespace, t);
  }

  private exec(sql: string, params: Params): Promise<pg.QueryResult<Row>> {
    let statement = this.prepared.get(sql);
    if (!statement) {
      const { text, names } = compileForPostgres(sql);
      // Named statements are parsed and planned once per connection, then only bound and executed.
      statement = { name: `apg_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text, names };
      this.prepared.set(sql, statement);
    }
    const values = statement.names.map((name) => params[name]);
    return this.pool.query<Row>({ name: statement.name, text: statement.text, values });
  }

  async init(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.migrate();
        break;
      } catch (error) {
        // Someone outside our lock (e.g. a host's @keyv/postgres on the same schema) created the same
        // object at the same moment: once they committed, IF NOT EXISTS succeeds.
        const code = (error as { code?: string }).code;
        if (attempt >= 3 || !['23505', '42P06', '42P07'].includes(code ?? '')) throw error;
      }
    }
    this.stopSweeper();
    this.stopSweeper = startSweeper((now) => this.sweep(now), this.opts.sweepIntervalMs);
  }

  private migrate(): Promise<void> {
    return migratePostgres(this.pool, this.namespace);
  }

  async sweep(now: Millis): Promise<{ records: number; holds: number }> {
    const records = await this.kv.sweepExpired(now);
    await this.usageReads.sweep(now);
    await this.outbox.sweep(now);
    let holds = 0;
    for (;;) {
      const accounts = await this.kv.accountsWithExpiredHolds(now);
      let released = 0;
      // Each account is released under its own row lock, exactly like a money operation would.
      for (const account of accounts) released += await this.money.releaseExpired(account, now);
      holds += released;
      if (released === 0) break;
    }
    return { records, holds };
  }

  async close(): Promise<void> {
    this.stopSweeper();
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** A pool whose every wait is bounded by `timeoutMs`, so an outage fails fast instead of hanging. */
function createPool(config: pg.PoolConfig, opts: SqlStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    max: 10,
    application_name: 'aipaygent',
    ...config,
    connectionTimeoutMillis: opts.timeoutMs,
    // Server side: a statement stuck on a lock or a slow disk is cancelled (and rolled back).
    statement_timeout: opts.timeoutMs,
    // Client side: a server that stopped answering (no RST) does not hold a pooled client forever.
    query_timeout: opts.timeoutMs,
    keepAlive: true,
    // Idle connections alone never keep the host process running.
    allowExitOnIdle: true,
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled it would crash the
  // host. The pool already discards that client, and calls in flight reject on their own.
  pool.on('error', () => {});
  return pool;
}

/** Opens the store on `postgres://...`. Call `init()` before use. */
export async function postgresStoreFromUrl(url: string, opts: SqlStoreOptions): Promise<Store> {
  return new PostgresStore(createPool({ connectionString: url }, opts), opts);
}

/** Keys of @keyv/postgres options that are not pg.Pool settings. */
const KEYV_ONLY = ['uri', 'table', 'keySize', 'schema', 'dialect', 'iterationLimit', 'useUnloggedTable'];

/**
 * Opens the store on the database of a host's `@keyv/postgres` instance. That adapter has no pool
 * accessor, so its connection options are read back and a pool of our own is opened.
 */
export async function postgresStoreFromKeyv(keyv: Keyv, opts: SqlStoreOptions): Promise<Store> {
  const adapterOpts = { ...((keyv.store as { opts?: Record<string, unknown> }).opts ?? {}) };
  const uri = adapterOpts.uri;
  if (typeof uri !== 'string') throw new Error('postgres store: the Keyv adapter has no connection uri in its options');
  for (const key of KEYV_ONLY) delete adapterOpts[key];
  return new PostgresStore(createPool({ ...(adapterOpts as pg.PoolConfig), connectionString: uri }, opts), opts);
}
