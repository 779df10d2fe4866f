// The storage conformance suite on the native Postgres store, plus what only it has: tables, sweep, Keyv path, migration races.
import { randomUUID } from 'node:crypto';
import KeyvPostgres from '@keyv/postgres';
import { Keyv } from 'keyv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { postgresStoreFromUrl } from '../../src/storage/postgres-store.js';
import { schemaStatements } from '../../src/storage/sql-schema.js';
import { postgresUrlOrSkip } from '../support/backends.js';
import { storageConformance } from './conformance.js';

const url = await postgresUrlOrSkip();
/** The outbox's table, write function and indexes, last in the schema (sql-outbox-schema.ts). */
const OUTBOX_STATEMENTS = 5;
const newSchema = () => `apg_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const bytes = (s: string) => new TextEncoder().encode(s);

/** Drops a test schema with a connection of the test's own. */
async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url! });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

storageConformance('postgres', async () => {
  if (!url) return null;
  const schema = newSchema();
  const store = await openStore(url, { timeoutMs: 10_000, prefix: schema });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe.skipIf(!url)('postgres store: tables, sweep, Keyv path', () => {
  const schema = newSchema();
  let store: Store;
  let admin: pg.Client;
  const count = async (table: string, account: string) =>
    Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".${table} WHERE account = $1`, [account])).rows[0].n);

  beforeAll(async () => {
    store = await postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: schema, sweepIntervalMs: 0 });
    await store.init();
    admin = new pg.Client({ connectionString: url! });
    await admin.connect();
  });
  afterAll(async () => {
    await store?.close();
    await admin?.end();
    await dropSchema(schema);
  });

  it('keeps keys in byte order and money in BIGINT columns', async () => {
    const { rows } = await admin.query(
      `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns
       WHERE table_schema = $1 AND column_name IN ('key', 'balance', 'amount', 'value')`, [schema]);
    const col = (t: string, c: string) => rows.find((r) => r.table_name === t && r.column_name === c);
    expect(col('records', 'key')).toMatchObject({ collation_name: 'C' });
    expect(col('records', 'value')).toMatchObject({ data_type: 'bytea' });
    expect(col('accounts', 'balance')).toMatchObject({ data_type: 'bigint' });
    expect(col('ledger', 'amount')).toMatchObject({ data_type: 'bigint' });
  });

  it('sweep physically removes expired rows and releases expired holds', async () => {
    const a = `sweep_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    await store.put(a, 'c', 'gone', { value: bytes('x'), size: 1, tag: 't', expiresAt: now + 10 }, now);
    await store.put(a, 'c', 'kept', { value: bytes('y'), size: 1, tag: 't', expiresAt: now + 60_000 }, now);
    await store.put(a, 'c', 'forever', { value: bytes('z'), size: 1, tag: 't', expiresAt: null }, now);
    await store.incr(a, 'n', 1, now + 10);
    await store.claim(a, 'idem', 'v', now + 10, now);
    await store.post(a, { amount: 100, kind: 'grant' }, now);
    await store.hold(a, { holdId: 'h1', amount: 60, expiresAt: now + 10 }, now);
    await store.void(a, { id: 'lost', window: 'w', until: now + 10 }, now);
    expect(await count('records', a)).toBe(3);
    expect(await count('charges', a)).toBe(1);

    const later = now + 1000;
    // Expired rows are invisible before the sweep, but still there: exactly what the sweep is for.
    expect(await store.get(a, 'c', 'gone', later)).toBeNull();
    expect(await count('records', a)).toBe(3);
    expect(await store.sweep(later)).toEqual({ records: 1, holds: 1 });
    expect((await admin.query(`SELECT key FROM "${schema}".records WHERE account = $1 ORDER BY key`, [a])).rows.map((r) => r.key))
      .toEqual(['forever', 'kept']);
    expect(await count('counters', a)).toBe(0);
    expect(Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".claims WHERE scope = $1`, [a])).rows[0].n)).toBe(0);
    expect(await count('holds', a)).toBe(0);
    expect(await count('charges', a)).toBe(0);
    expect((await store.ledger(a, { limit: 5 })).map((e) => [e.kind, e.amount, e.balanceAfter, e.reference])).toEqual([
      ['release', 60, 100, 'hold:h1'], ['hold', -60, 40, 'hold:h1'], ['grant', 100, 100, null],
    ]);
    expect(await store.sweep(later)).toEqual({ records: 0, holds: 0 });
  });

  it('sweeps by itself every sweepIntervalMs, and stops on close', async () => {
    const fresh = newSchema();
    const auto = await postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: fresh, sweepIntervalMs: 50 });
    try {
      await auto.init();
      const now = Date.now();
      await auto.put('auto', 'c', 'k', { value: bytes('x'), size: 1, tag: 't', expiresAt: now + 20 }, now);
      const rows = async () => Number((await admin.query(`SELECT count(*) AS n FROM "${fresh}".records`)).rows[0].n);
      expect(await rows()).toBe(1);
      const deadline = Date.now() + 5000;
      while ((await rows()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(await rows()).toBe(0);
    } finally {
      await auto.close();
      await dropSchema(fresh);
    }
  });

  it('several processes migrating at once do not collide', async () => {
    const fresh = newSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: fresh, sweepIntervalMs: 0 })));
    try {
      await Promise.all(stores.map((s) => s.init()));
      await Promise.all(stores.map((s) => s.init()));
      expect(await stores[0]!.post('x', { amount: 1, kind: 'grant' }, Date.now())).toMatchObject({ ok: true, balance: 1 });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(fresh);
    }
  });

  it('a schema made before charge ids existed gets their table on init, and keeps its data', async () => {
    const fresh = newSchema();
    // What the migration created before the `charges` table (its table and index come just before search's two statements and usage's three).
    await admin.query(schemaStatements('postgres', fresh).slice(0, -7 - OUTBOX_STATEMENTS).join(';\n'));
    await admin.query(`INSERT INTO "${fresh}".accounts (account, balance, seq) VALUES ('old', 0, 0)`);
    const upgraded = await postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: fresh, sweepIntervalMs: 0 });
    try {
      await upgraded.init();
      await upgraded.post('old', { amount: 500, kind: 'grant' }, Date.now());
      const charge = { window: 'w', windowExpiresAt: Date.now() + 60_000, freeLimit: 0, price: 100, voidable: { id: 'c', until: Date.now() + 60_000 } };
      expect(await upgraded.charge('old', charge, Date.now())).toMatchObject({ ok: true, balance: 400 });
      expect(await upgraded.void('old', { id: 'c', window: 'w', until: Date.now() + 60_000 }, Date.now())).toMatchObject({ outcome: 'given_back', balance: 500 });
    } finally {
      await upgraded.close();
      await dropSchema(fresh);
    }
  });

  it('a schema made by the release before usage counters gets their tables on init (idempotent), and keeps its data', async () => {
    const fresh = newSchema();
    // Everything but usage's two tables and index (and the outbox after them): the schema main's code created.
    await admin.query(schemaStatements('postgres', fresh).slice(0, -3 - OUTBOX_STATEMENTS).join(';\n'));
    await admin.query(`INSERT INTO "${fresh}".accounts (account, balance, seq) VALUES ('old', 300, 0)`);
    const stores = [0, 1].map(() => postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: fresh, sweepIntervalMs: 0 }));
    const [one, two] = await Promise.all(stores);
    try {
      // Two processes upgrading at once, then once more: the migration is idempotent.
      await Promise.all([one!.init(), two!.init()]);
      await one!.init();
      const now = Date.now();
      const bucket = new Date(now).toISOString().slice(0, 13);
      const charge = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 0, price: 100, usage: { bucket, expiresAt: now + 60_000, keyId: 'key_1' } };
      expect(await one!.charge('old', charge, now)).toMatchObject({ ok: true, balance: 200 });
      expect(await two!.usage!('old', bucket, bucket, now)).toEqual([{ bucket, fields: { paid: 1, spent: 100 } }]);
      expect(await two!.lastUsed!('old')).toEqual({ key_1: now });
    } finally {
      await Promise.all([one!.close(), two!.close()]);
      await dropSchema(fresh);
    }
  });

  it('a @keyv/postgres instance takes the native path, and closing our store leaves it open', async () => {
    const fresh = newSchema();
    const keyv = new Keyv({ store: new KeyvPostgres({ uri: url!, schema: fresh, table: 'host_keyv' }) });
    // The adapter creates its schema and table in the background; a first write waits for that
    // (a concurrent CREATE SCHEMA would make the adapter drop its CREATE TABLE: its own race).
    await keyv.set('before', 1);
    const native = await openStore(keyv, { timeoutMs: 10_000, prefix: fresh });
    try {
      expect(native.info).toEqual({ backend: 'postgres', multiProcess: true, chargeAuth: true, usage: true, outbox: true });
      await native.init();
      expect(await native.post('k', { amount: 5, kind: 'grant', reference: 'r' }, Date.now())).toMatchObject({ ok: true, balance: 5 });
      await native.close();
      await keyv.set('still', 'open');
      expect(await keyv.get('still')).toBe('open');
    } finally {
      await keyv.disconnect();
      await dropSchema(fresh);
    }
  });
});
