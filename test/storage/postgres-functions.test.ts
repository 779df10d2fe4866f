// The Postgres store's money functions: a schema of the releases before them (tables only, with balances, ledgers,
// holds and charge ids) migrates and keeps working, and no SQL text the store sends carries a value.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { postgresStoreFromUrl } from '../../src/storage/postgres-store.js';
import { FUNCTIONS_VERSION } from '../../src/storage/sql-postgres-plpgsql.js';
import { schemaStatements } from '../../src/storage/sql-schema.js';
import { postgresUrlOrSkip } from '../support/backends.js';

const url = await postgresUrlOrSkip();
const newSchema = () => `apg_fn_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const open = (schema: string) => postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: schema, sweepIntervalMs: 0 });

describe.skipIf(!url)('postgres money functions', () => {
  let admin: pg.Client;
  const schemas: string[] = [];
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url! });
    await admin.connect();
  });
  afterAll(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin?.end();
  });
  const functions = async (schema: string) =>
    (await admin.query(`SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.pronamespace = to_regnamespace($1)`, [`"${schema}"`])).rows.map((r) => String(r.f));

  it('a schema made before the functions (tables, balances, ledger, holds, charge ids) gets them on init and keeps working', async () => {
    const schema = newSchema();
    schemas.push(schema);
    // The tables exactly as the releases before the functions created them: today's schema but the outbox (its
    // table, indexes and outbox_write function came later), and rows as their multi-statement money queries wrote them.
    await admin.query(schemaStatements('postgres', schema).filter((sql) => !sql.includes('outbox')).join(';\n'));
    const t = (name: string) => `"${schema}".${name}`;
    const now = Date.now();
    await admin.query(`INSERT INTO ${t('accounts')} VALUES ('old', 700, 4)`);
    await admin.query(`INSERT INTO ${t('ledger')} VALUES
      ('old', 1, 1000, 'grant', 'g-1', 'welcome', $1, 1000), ('old', 2, -100, 'debit', NULL, 'call', $1, 900),
      ('old', 3, -150, 'hold', 'hold:live', 'claude', $1, 750), ('old', 4, -50, 'hold', 'hold:stale', 'claude', $1, 700)`, [now - 5000]);
    await admin.query(`INSERT INTO ${t('holds')} VALUES ('old', 'live', 150, $1, 3), ('old', 'stale', 50, $2, 4)`, [now + 600_000, now - 1000]);
    await admin.query(`INSERT INTO ${t('charges')} VALUES ('old', 'paid-call', 100, $1)`, [now + 600_000]);
    await admin.query(`INSERT INTO ${t('counters')} VALUES ('old', 'free:w', 2, $1)`, [now + 600_000]);
    expect(await functions(schema)).toEqual([]);

    const [one, two] = await Promise.all([open(schema), open(schema)]);
    try {
      // Two processes upgrading at once, then once more: the migration runs once and is idempotent.
      await Promise.all([one!.init(), two!.init()]);
      await one!.init();
      // The eight money functions and the outbox's write function, which they call.
      expect((await functions(schema)).length).toBe(9);
      expect(await functions(schema)).toContain(`${schema}.outbox_write(text,jsonb,bigint,bigint)`);
      expect((await admin.query(`SELECT version FROM ${t('schema_version')}`)).rows).toEqual([{ version: String(FUNCTIONS_VERSION) }]);
      // The expired hold is released by the first operation, the live one settles, the old charge id is voided once.
      expect(await one!.balance('old', now)).toBe(750);
      expect(await two!.settle('old', 'live', 120, now, 'settled')).toMatchObject({ ok: true, charged: 120, balance: 780 });
      expect(await one!.void('old', { id: 'paid-call', window: 'w', until: now + 600_000, memo: 'lost' }, now)).toMatchObject({ outcome: 'given_back', balance: 880 });
      expect(await two!.void('old', { id: 'paid-call', window: 'w', until: now + 600_000 }, now)).toMatchObject({ outcome: 'already' });
      // The old reference stays insert-once; the free-call counter carries on; a paid charge and a hold still work.
      expect(await one!.post('old', { amount: 5, kind: 'grant', reference: 'g-1' }, now)).toMatchObject({ ok: false, reason: 'duplicate' });
      const w = { window: 'w', windowExpiresAt: now + 600_000, freeLimit: 3, price: 80 };
      expect(await one!.charge('old', w, now)).toMatchObject({ ok: true, free: true, freeUsed: 3 });
      expect(await two!.charge('old', w, now)).toMatchObject({ ok: true, free: false, freeUsed: 3, balance: 800 });
      // The outbox the migration added takes the money functions' events.
      const low = { below: 500, rows: [{ id: 'evt_low.ep', eventId: 'evt_low', endpoint: 'ep', type: 'balance.low', data: '{}' }] };
      expect(await one!.hold('old', { holdId: 'new', amount: 800, expiresAt: now + 60_000, events: { low } }, now)).toEqual({ ok: true, balance: 0 });
      expect((await one!.outbox!.list({ limit: 10 })).map((d) => [d.id, d.account, d.balance])).toEqual([['evt_low.ep', 'old', 0]]);
      const ledger = await one!.ledger('old', { limit: 20 });
      expect(ledger.map((e) => [e.seq, e.kind, e.amount, e.balanceAfter, e.reference])).toEqual([
        [9, 'hold', -800, 0, 'hold:new'], [8, 'debit', -80, 800, null], [7, 'refund', 100, 880, null],
        [6, 'settle', 30, 780, null], [5, 'release', 50, 750, 'hold:stale'],
        [4, 'hold', -50, 700, 'hold:stale'], [3, 'hold', -150, 750, 'hold:live'], [2, 'debit', -100, 900, null], [1, 'grant', 1000, 1000, 'g-1'],
      ]);
    } finally {
      await Promise.all([one!.close(), two!.close()]);
    }
  });

  it('an older version row reruns the migration: functions replaced, stale overloads of ours dropped, data kept', async () => {
    const schema = newSchema();
    schemas.push(schema);
    const first = await open(schema);
    await first.init();
    await first.post('a', { amount: 40, kind: 'grant' }, Date.now());
    await first.close();
    const before = await functions(schema);
    // What a release with another signature would have left behind, and a version row older than this code's.
    await admin.query(`CREATE FUNCTION "${schema}".apg_charge(p_account text) RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    await admin.query(`UPDATE "${schema}".schema_version SET version = 0`);
    const again = await open(schema);
    try {
      await again.init();
      expect((await functions(schema)).sort()).toEqual(before.sort());
      expect((await admin.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: String(FUNCTIONS_VERSION) }]);
      expect(await again.charge('a', { window: 'w', windowExpiresAt: Date.now() + 60_000, freeLimit: 0, price: 15 }, Date.now()))
        .toMatchObject({ ok: true, free: false, balance: 25 });
    } finally {
      await again.close();
    }
  });

  it('sends no value in SQL text: every statement after init is a named prepared statement with bound parameters', async () => {
    const schema = newSchema();
    schemas.push(schema);
    const sent: Array<{ text: string; name?: string; values?: unknown[] }> = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0];
      if (typeof q === 'string') sent.push({ text: q, values: Array.isArray(args[1]) ? args[1] : undefined });
      else if (q && typeof q === 'object' && 'text' in q) sent.push(q as { text: string; name?: string; values?: unknown[] });
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    let store: Store | undefined;
    try {
      store = await open(schema);
      await store.init();
      const migration = sent.length;
      const a = 'acct_SENTINEL_account';
      const now = Date.now();
      const hash = createHash('sha256').update('SENTINEL_secret').digest();
      const u = { bucket: '2099-01-01T00', expiresAt: now + 86_400_000, keyId: 'SENTINEL_keyid', add: { 'tok:SENTINEL_model:input': 987_651 } };
      await store.put(a, 'SENTINEL_keys', 'SENTINEL_k', { value: Buffer.concat([hash, Buffer.from('SENTINEL_label')]), size: 46, tag: 'SENTINEL_tag;SENTINEL_scope', expiresAt: null }, now);
      await store.put(a, 'SENTINEL_mem', 'SENTINEL_note', { value: Buffer.from('x'), size: 1, tag: 't', expiresAt: now + 60_000, index: 'zebracornsentinel words' }, now, { absent: true });
      expect((await store.search(a, 'SENTINEL_mem', { units: [{ words: ['zebracornsentinel'], prefix: false }], limit: 5 }, now)).length).toBe(1);
      await store.list(a, 'SENTINEL_mem', { prefix: 'SENTINEL_', after: 'SENTINEL_a', limit: 5 }, now);
      await store.post(a, { amount: 987_654_321, kind: 'grant', reference: 'SENTINEL_ref', memo: 'SENTINEL_memo', usage: u }, now);
      const auth = { collection: 'SENTINEL_keys', key: 'SENTINEL_k', tag: 'SENTINEL_tag', scope: 'SENTINEL_scope', hash };
      const w = { window: 'SENTINEL_window', windowExpiresAt: now + 60_000, freeLimit: 1, price: 4_242_421, memo: 'SENTINEL_cmemo', auth, usage: u };
      expect(await store.charge(a, { ...w, voidable: { id: 'SENTINEL_c1', until: now + 60_000 } }, now)).toMatchObject({ ok: true, free: true });
      expect(await store.charge(a, { ...w, voidable: { id: 'SENTINEL_c2', until: now + 60_000 } }, now)).toMatchObject({ ok: true, free: false });
      expect(await store.void(a, { id: 'SENTINEL_c2', window: 'SENTINEL_window', until: now + 60_000, memo: 'SENTINEL_vmemo', usage: u }, now)).toMatchObject({ outcome: 'given_back' });
      expect(await store.hold(a, { holdId: 'SENTINEL_h', amount: 1_234_567, expiresAt: now + 1000, memo: 'SENTINEL_hmemo' }, now)).toMatchObject({ ok: true });
      expect(await store.settle(a, 'SENTINEL_h', 765_432, now, 'SENTINEL_smemo', u)).toMatchObject({ ok: true, charged: 765_432 });
      await store.hold(a, { holdId: 'SENTINEL_h2', amount: 1_111_111, expiresAt: now + 1000 }, now);
      expect(await store.balance(a, now + 5000)).toBe(987_654_321 - 765_432);
      // Caps and events: jsonb parameters, never SQL text; a put's events in the record's own statement.
      const ev = (n: string) => ({ id: `SENTINEL_evt${n}.SENTINEL_ep`, eventId: `SENTINEL_evt${n}`, endpoint: 'SENTINEL_ep', type: 'SENTINEL.type', data: '{"SENTINEL":1}' });
      const caps = [{ counter: 'SENTINEL_cap', limit: 5_555_555_555, expiresAt: now + 60_000 }];
      const events = { done: [ev('1')], low: { below: 983_333_333, rows: [ev('2')] }, capped: [[ev('3')]] };
      expect(await store.charge(a, { ...w, voidable: { id: 'SENTINEL_c3', until: now + 60_000 }, caps: [{ ...caps[0]!, limit: 1 }], events }, now)).toMatchObject({ ok: false, cap: 0 });
      expect(await store.charge(a, { ...w, voidable: { id: 'SENTINEL_c4', until: now + 60_000 }, caps, events }, now)).toMatchObject({ ok: true, free: false });
      expect(await store.void(a, { id: 'SENTINEL_c4', window: 'SENTINEL_window', until: now + 60_000, caps: ['SENTINEL_cap'], events }, now)).toMatchObject({ outcome: 'given_back' });
      expect(await store.hold(a, { holdId: 'SENTINEL_h4', amount: 1_234_567, expiresAt: now + 1000, caps, events }, now)).toMatchObject({ ok: true });
      expect(await store.settle(a, 'SENTINEL_h4', 765_432, now, 'SENTINEL_smemo', u, ['SENTINEL_cap'])).toMatchObject({ ok: true });
      await store.post(a, { amount: 1, kind: 'refund', caps: ['SENTINEL_cap'], events: { done: [ev('4')] } }, now);
      await store.put(a, 'SENTINEL_mem', 'SENTINEL_ev', { value: Buffer.from('x'), size: 1, tag: 't', expiresAt: null, events: { done: [ev('5')] } }, now, { absent: true });
      expect((await store.outbox!.list({ limit: 20 })).map((d) => d.eventId).sort()).toEqual(['1', '2', '3', '4', '5'].map((n) => `SENTINEL_evt${n}`));
      expect(await store.counter(a, 'SENTINEL_cap', now)).toBe(765_432 - 1);
      await store.incr(a, 'SENTINEL_counter', 3, now + 60_000, u);
      await store.incr(a, 'SENTINEL_counter', 3, now + 60_000);
      await store.claim('SENTINEL_scope2', 'SENTINEL_claim', 'SENTINEL_value', now + 60_000, now);
      await store.updateClaim('SENTINEL_scope2', 'SENTINEL_claim', 'SENTINEL_value2', now + 60_000);
      await store.ledger(a, { limit: 10 });
      await store.usage!(a, '2099-01-01T00', '2099-01-01T00', now);
      await store.lastUsed!(a);
      await store.delete(a, 'SENTINEL_mem', 'SENTINEL_note', now);
      await store.hold(a, { holdId: 'SENTINEL_h3', amount: 1_111_111, expiresAt: now + 1000 }, now);
      expect(await store.sweep(now + 120_000)).toEqual({ records: 0, holds: 1 });

      const values = ['SENTINEL', 'sentinel', '987654321', '987651', '4242421', '1234567', '765432', '1111111', '5555555555', '983333333', String(now)];
      for (const q of sent) for (const v of values) expect(q.text, `a value in: ${q.text}`).not.toContain(v);
      const after = sent.slice(migration);
      expect(after.length).toBeGreaterThan(20);
      for (const q of after) expect(q.name, q.text).toMatch(/^apg_[0-9a-f]{20}$/);
      // Every money operation was one call of a function of ours, with its values bound.
      const calls = after.filter((q) => q.text.includes(`"${schema}".apg_`));
      expect(new Set(calls.map((q) => /apg_(\w+)\(/.exec(q.text)![1]))).toEqual(new Set(['post', 'charge', 'void', 'hold', 'settle', 'balance', 'incr', 'release_expired']));
      for (const q of calls) expect(q.values?.length).toBeGreaterThan(1);
    } finally {
      pg.Client.prototype.query = query;
      await store?.close();
    }
  });
});
