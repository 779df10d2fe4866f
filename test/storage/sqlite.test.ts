// The storage conformance suite on the native SQLite store (file and memory), plus its tables, sweep, URLs and Keyv path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Database from 'better-sqlite3';
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { OUTBOX_KEEP_MS } from '../../src/storage/outbox.js';
import { schemaStatements, sqliteSearchStatements } from '../../src/storage/sql-schema.js';
import { sqliteStoreFromUrl } from '../../src/storage/sqlite-store.js';
import { storageConformance } from './conformance.js';

const bytes = (s: string) => new TextEncoder().encode(s);
/** The outbox's table and indexes, last in the schema (sql-outbox-schema.ts). */
const OUTBOX_STATEMENTS = 4;
const newDir = () => mkdtempSync(join(tmpdir(), 'apg-sqlite-'));

storageConformance('sqlite (file)', async () => {
  const dir = newDir();
  const store = await openStore(`sqlite://${join(dir, 'store.db')}`, { timeoutMs: 10_000, prefix: 'apg:test:' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageConformance('sqlite (memory)', async () => {
  const store = await openStore('sqlite://:memory:', { timeoutMs: 10_000, prefix: 'apg' });
  return { store, cleanup: () => store.close() };
});

describe('sqlite store: tables, sweep, URLs, Keyv path', () => {
  const dir = newDir();
  const file = join(dir, 'extras.db');
  let store: Store;
  let admin: Database.Database;
  const count = (table: string, where: string, value: string) =>
    (admin.prepare(`SELECT count(*) AS n FROM "apg_${table}" WHERE ${where} = ?`).get(value) as { n: number }).n;

  beforeAll(async () => {
    store = await sqliteStoreFromUrl(`sqlite://${file}`, { timeoutMs: 10_000, prefix: 'apg', sweepIntervalMs: 0 });
    await store.init();
    admin = new Database(file, { readonly: true });
  });
  afterAll(async () => {
    await store?.close();
    admin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode and reports itself as multi-process', () => {
    expect(admin.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.info).toEqual({ backend: 'sqlite', multiProcess: true, chargeAuth: true, inProcess: true, usage: true, outbox: true });
  });

  it('sweep physically removes expired rows and releases expired holds', async () => {
    const a = 'sweeper';
    const now = Date.now();
    await store.put(a, 'c', 'gone', { value: bytes('x'), size: 1, tag: 't', expiresAt: now + 10 }, now);
    await store.put(a, 'c', 'kept', { value: bytes('y'), size: 1, tag: 't', expiresAt: now + 60_000 }, now);
    await store.put(a, 'c', 'forever', { value: bytes('z'), size: 1, tag: 't', expiresAt: null }, now);
    await store.incr(a, 'n', 1, now + 10);
    await store.claim(a, 'idem', 'v', now + 10, now);
    await store.post(a, { amount: 100, kind: 'grant' }, now);
    await store.hold(a, { holdId: 'h1', amount: 60, expiresAt: now + 10 }, now);

    const later = now + 1000;
    // Expired rows are invisible before the sweep, but still there: exactly what the sweep is for.
    expect(await store.get(a, 'c', 'gone', later)).toBeNull();
    expect(count('records', 'account', a)).toBe(3);
    expect(await store.sweep(later)).toEqual({ records: 1, holds: 1 });
    expect((admin.prepare('SELECT key FROM "apg_records" WHERE account = ? ORDER BY key').all(a) as { key: string }[]).map((r) => r.key))
      .toEqual(['forever', 'kept']);
    expect(count('counters', 'account', a)).toBe(0);
    expect(count('claims', 'scope', a)).toBe(0);
    expect(count('holds', 'account', a)).toBe(0);
    expect((await store.ledger(a, { limit: 5 })).map((e) => [e.kind, e.amount, e.balanceAfter, e.reference])).toEqual([
      ['release', 60, 100, 'hold:h1'], ['hold', -60, 40, 'hold:h1'], ['grant', 100, 100, null],
    ]);
    expect(await store.sweep(later)).toEqual({ records: 0, holds: 0 });
  });

  it('sweeps by itself every sweepIntervalMs, and stops on close', async () => {
    const auto = await sqliteStoreFromUrl(`sqlite://${join(dir, 'auto.db')}`, { timeoutMs: 5000, prefix: 'apg', sweepIntervalMs: 50 });
    await auto.init();
    const now = Date.now();
    await auto.put('auto', 'c', 'k', { value: bytes('x'), size: 1, tag: 't', expiresAt: now + 20 }, now);
    const reader = new Database(join(dir, 'auto.db'), { readonly: true });
    const rows = () => (reader.prepare('SELECT count(*) AS n FROM "apg_records"').get() as { n: number }).n;
    expect(rows()).toBe(1);
    const deadline = Date.now() + 5000;
    while (rows() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(rows()).toBe(0);
    reader.close();
    await auto.close();
  });

  it('a file made by the release before usage counters gets their tables on init (idempotent), and keeps its data', async () => {
    const path = join(dir, 'before-usage.db');
    const old = new Database(path);
    // Everything but usage's two tables and index and the outbox after them: the file main's code created (with the search column and index).
    for (const statement of schemaStatements('sqlite', 'apg').slice(0, -3 - OUTBOX_STATEMENTS)) old.exec(statement);
    old.exec('ALTER TABLE "apg_records" ADD COLUMN search TEXT');
    for (const statement of sqliteSearchStatements('apg')) old.exec(statement);
    old.exec(`INSERT INTO "apg_accounts" (account, balance, seq) VALUES ('old', 300, 0)`);
    old.close();
    const upgraded = await sqliteStoreFromUrl(`sqlite://${path}`, { timeoutMs: 5000, prefix: 'apg', sweepIntervalMs: 0 });
    try {
      await upgraded.init();
      await upgraded.init();
      const now = Date.now();
      const bucket = new Date(now).toISOString().slice(0, 13);
      const charge = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 0, price: 100, usage: { bucket, expiresAt: now + 60_000, keyId: 'key_1' } };
      expect(await upgraded.charge('old', charge, now)).toMatchObject({ ok: true, balance: 200 });
      expect(await upgraded.usage!('old', bucket, bucket, now)).toEqual([{ bucket, fields: { paid: 1, spent: 100 } }]);
      expect(await upgraded.lastUsed!('old')).toEqual({ key_1: now });
    } finally {
      await upgraded.close();
    }
  });

  it('a file made by the release before the outbox gets its table on init, and writes events from then on', async () => {
    const path = join(dir, 'before-outbox.db');
    const old = new Database(path);
    for (const statement of schemaStatements('sqlite', 'apg').slice(0, -OUTBOX_STATEMENTS)) old.exec(statement);
    old.exec('ALTER TABLE "apg_records" ADD COLUMN search TEXT');
    old.close();
    const upgraded = await sqliteStoreFromUrl(`sqlite://${path}`, { timeoutMs: 5000, prefix: 'apg', sweepIntervalMs: 0 });
    try {
      await upgraded.init();
      const now = Date.now();
      const row = { id: 'evt_old.ep1', eventId: 'evt_old', endpoint: 'ep1', type: 'credits.granted', data: '{}' };
      expect(await upgraded.post('old', { amount: 5, kind: 'grant', events: { done: [row] } }, now)).toMatchObject({ ok: true });
      expect(await upgraded.outbox!.get('old', row.id)).toMatchObject({ status: 'pending', balance: 5, createdAt: now });
    } finally {
      await upgraded.close();
    }
  });

  it('sweep removes delivered and failed deliveries OUTBOX_KEEP_MS after their last update, never pending ones', async () => {
    const now = Date.now();
    const row = (n: string) => ({ id: `evt_sw${n}.ep1`, eventId: `evt_sw${n}`, endpoint: 'ep1', type: 't', data: '{}' });
    await store.post('sw', { amount: 1, kind: 'grant', events: { done: [row('1'), row('2'), row('3')] } }, now);
    const claimed = (await store.outbox!.claim(now, now + 1000, 100)).filter((d) => d.account === 'sw');
    expect(claimed).toHaveLength(3);
    await store.outbox!.finish('sw', row('1').id, 1, { delivered: true }, now);
    await store.outbox!.finish('sw', row('2').id, 1, { delivered: false, error: 'no', retryAt: null }, now + 1);
    await store.sweep(now + OUTBOX_KEEP_MS);
    expect(count('outbox', 'account', 'sw')).toBe(2);
    await store.sweep(now + OUTBOX_KEEP_MS + 1);
    expect(count('outbox', 'account', 'sw')).toBe(1);
    expect(await store.outbox!.get('sw', row('3').id)).toMatchObject({ status: 'pending' });
  });

  it('opens relative paths (creating directories) and refuses a URL without a file', async () => {
    const path = relative(process.cwd(), join(dir, 'nested', 'deeper', 'rel.db'));
    expect(path.startsWith('/')).toBe(false);
    const rel = await openStore(`sqlite://${path}`, { timeoutMs: 5000, prefix: 'apg' });
    await rel.init();
    expect(await rel.post('a', { amount: 3, kind: 'grant' }, Date.now())).toMatchObject({ ok: true, balance: 3 });
    await rel.close();
    await expect(sqliteStoreFromUrl('sqlite://', { timeoutMs: 5000, prefix: 'apg' })).rejects.toThrow(/no file/);
  });

  it('a @keyv/sqlite instance takes the native path on the same file, and stays usable after close', async () => {
    const keyvFile = join(dir, 'host.db');
    const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${keyvFile}`, busyTimeout: 5000 }) });
    await keyv.set('before', 1);
    const native = await openStore(keyv, { timeoutMs: 5000, prefix: 'apg' });
    expect(native.info).toEqual({ backend: 'sqlite', multiProcess: true, chargeAuth: true, inProcess: true, usage: true, outbox: true });
    await native.init();
    expect(await native.post('k', { amount: 5, kind: 'grant', reference: 'r' }, Date.now())).toMatchObject({ ok: true, balance: 5 });
    await native.close();
    await keyv.set('still', 'open');
    expect(await keyv.get('still')).toBe('open');
    const tables = new Database(keyvFile, { readonly: true });
    expect(tables.prepare(`SELECT name FROM sqlite_master WHERE name IN ('keyv', 'apg_ledger')`).all()).toHaveLength(2);
    tables.close();
    await keyv.disconnect();

    const memoryKeyv = new Keyv({ store: new KeyvSqlite({ uri: 'sqlite://:memory:' }) });
    const memory = await openStore(memoryKeyv, { timeoutMs: 5000, prefix: 'apg' });
    expect(memory.info).toEqual({ backend: 'sqlite', multiProcess: false, chargeAuth: true, inProcess: true, usage: true, outbox: true });
    await memory.close();
    await memoryKeyv.disconnect();
  });
});
