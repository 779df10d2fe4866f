// The SQL outbox on Postgres (SqlOutbox): rows written through the schema's outbox_write (what the money functions and put
// call, in their own statement), claimed by several stores (pools) at once, finished, listed, retried, swept; and the
// migration of an older schema.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_KEEP_MS, type OutboxRow } from '../../src/storage/outbox.js';
import { PostgresStore, postgresStoreFromUrl } from '../../src/storage/postgres-store.js';
import { schemaStatements } from '../../src/storage/sql-schema.js';
import { postgresUrlOrSkip } from '../support/backends.js';

const url = await postgresUrlOrSkip();
const newSchema = () => `apg_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const uid = () => randomUUID().slice(0, 8);
const row = (type: string, eventId = `evt_${uid()}`, endpoint = 'ep1'): OutboxRow => ({ id: `${eventId}.${endpoint}`, eventId, endpoint, type, data: JSON.stringify({ type, q: "it's" }) });

describe.skipIf(!url)('postgres outbox (SqlOutbox)', () => {
  const schema = newSchema();
  let stores: PostgresStore[] = [];
  let admin: pg.Client;
  const s = () => stores[0]!;

  beforeAll(async () => {
    // Three stores, three pools: as several processes claiming from one table.
    stores = (await Promise.all([0, 1, 2].map(() => postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: schema, sweepIntervalMs: 0 })))) as PostgresStore[];
    await Promise.all(stores.map((x) => x.init()));
    admin = new pg.Client({ connectionString: url! });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((x) => x.close()));
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  it('inserts once by id, with the account, balance and time given, the data as given', async () => {
    const now = Date.now();
    const a = `a_${uid()}`;
    const r = row('credits.granted');
    expect(await s().outbox.insert(a, [r, row('balance.low')], 700, now)).toBe(2);
    expect(await s().outbox.insert(a, [r], 1, now + 5)).toBe(0);
    expect(await s().outbox.get(a, r.id)).toEqual({
      ...r, account: a, balance: 700, createdAt: now, status: 'pending', attempts: 0, nextAt: now, leaseUntil: 0, lastError: null, updatedAt: now,
    });
    expect(await s().outbox.get(`other_${uid()}`, r.id)).toBeNull();
    // The money functions' call: the same function, inside their own statement.
    const r2 = row('key.created');
    await admin.query(`SELECT "${schema}".outbox_write($1, $2::jsonb, $3, $4)`, [a, JSON.stringify([r2, r2]), 5, now]);
    expect(await s().outbox.get(a, r2.id)).toMatchObject({ balance: 5, status: 'pending' });
  });

  it('claims each due delivery once across stores running claims at the same time (SKIP LOCKED)', async () => {
    const now = Date.now() + 100 * 3_600_000; // after the other tests' deliveries
    const a = `a_${uid()}`;
    const rows = Array.from({ length: 120 }, (_, i) => row('t', `evt_${String(i).padStart(3, '0')}_${uid()}`));
    await s().outbox.insert(a, rows, 1, now);
    const got: string[] = [];
    for (;;) {
      const batches = await Promise.all(stores.flatMap((x) => [x.outbox.claim(now, now + 30_000, 7), x.outbox.claim(now, now + 30_000, 7)]));
      const flat = batches.flat().filter((d) => d.account === a);
      if (batches.flat().length === 0) break;
      expect(flat.every((d) => d.attempts === 1 && d.leaseUntil === now + 30_000 && d.updatedAt === now)).toBe(true);
      got.push(...flat.map((d) => d.id));
    }
    expect(got.sort()).toEqual(rows.map((r) => r.id).sort());
    expect(await s().outbox.claim(now + 29_999, now + 60_000, 1000)).toEqual([]);
    // The lease ran out: all come back, oldest due first, attempt 2.
    const again = await s().outbox.claim(now + 30_000, now + 60_000, 1000);
    expect(again.filter((d) => d.account === a).map((d) => d.attempts)).toEqual(rows.map(() => 2));
  });

  it('finish counts only the latest attempt of a pending delivery; retry, list by status and cursor; sweep keeps pending ones', async () => {
    const now = Date.now() + 200 * 3_600_000;
    const a = `a_${uid()}`;
    const rows = [row('t'), row('t'), row('t')];
    await s().outbox.insert(a, rows, 1, now);
    const claimed = (await s().outbox.claim(now, now + 1000, 1000)).filter((d) => d.account === a);
    expect(claimed).toHaveLength(3);
    const [d0, d1, d2] = rows.map((r) => r.id);
    expect(await s().outbox.finish(a, d0!, 2, { delivered: true }, now + 1)).toBe(false);
    expect(await s().outbox.finish(`x_${uid()}`, d0!, 1, { delivered: true }, now + 1)).toBe(false);
    expect(await s().outbox.finish(a, d0!, 1, { delivered: true }, now + 1)).toBe(true);
    expect(await s().outbox.finish(a, d0!, 1, { delivered: true }, now + 1)).toBe(false);
    expect(await s().outbox.finish(a, d1!, 1, { delivered: false, error: 'HTTP 500', retryAt: now + 50 }, now + 2)).toBe(true);
    expect(await s().outbox.finish(a, d2!, 1, { delivered: false, error: 'gave up', retryAt: null }, now + 3)).toBe(true);
    expect(await s().outbox.get(a, d1!)).toMatchObject({ status: 'pending', nextAt: now + 50, leaseUntil: 0, lastError: 'HTTP 500', updatedAt: now + 2 });
    expect(await s().outbox.get(a, d2!)).toMatchObject({ status: 'failed', lastError: 'gave up' });
    expect(await s().outbox.get(a, d0!)).toMatchObject({ status: 'delivered', lastError: null, leaseUntil: 0 });
    expect((await s().outbox.list({ status: 'failed', limit: 1000 })).filter((d) => d.account === a).map((d) => d.id)).toEqual([d2]);
    // Newest first by (createdAt, id); a cursor excludes itself.
    const mine = (await s().outbox.list({ limit: 1000 })).filter((d) => d.account === a).map((d) => d.id);
    expect(mine).toEqual([...rows.map((r) => r.id)].sort().reverse());
    const page = await s().outbox.list({ limit: 1, before: `${now}:${mine[0]}` });
    expect(page.map((d) => d.id)).toEqual([mine[1]]);
    expect(await s().outbox.retry(a, d2!, now + 10)).toBe(true);
    expect(await s().outbox.retry(a, 'nope.ep1', now + 10)).toBe(false);
    expect(await s().outbox.get(a, d2!)).toMatchObject({ status: 'pending', attempts: 0, nextAt: now + 10, lastError: 'gave up' });
    const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".outbox WHERE account = $1`, [a])).rows[0].n);
    await s().sweep(now + 1 + OUTBOX_KEEP_MS - 1);
    expect(await count()).toBe(3);
    await s().sweep(now + 1 + OUTBOX_KEEP_MS);
    expect(await count()).toBe(2); // the delivered one; the pending two stay
  });

  it("put writes its events in the record's own statement, in every mode, only when the write applied", async () => {
    const now = Date.now();
    const a = `a_${uid()}`;
    await s().post(a, { amount: 250, kind: 'grant' }, now);
    const put = (events: OutboxRow[], expect?: { absent: true } | { version: number }) =>
      s().put(a, 'keys', 'k', { value: new Uint8Array([1]), size: 1, tag: 't', expiresAt: null, events: { done: events } }, now, expect);
    const [r1, r2, r3, r4] = [row('key.created'), row('key.created'), row('key.revoked'), row('key.revoked')];
    expect(await put([r1], { absent: true })).toMatchObject({ ok: true, created: true });
    expect(await put([r2], { absent: true })).toMatchObject({ ok: false });
    expect(await put([r3], { version: 7 })).toMatchObject({ ok: false });
    expect(await put([r3], { version: 1 })).toMatchObject({ ok: true, record: { version: 2 } });
    expect(await put([r4, r4])).toMatchObject({ ok: true, record: { version: 3 } });
    const n = await admin.query(`SELECT id, balance, created_at FROM "${schema}".outbox WHERE account = $1 ORDER BY id`, [a]);
    expect(n.rows).toEqual([r1.id, r3.id, r4.id].sort().map((id) => ({ id, balance: '250', created_at: String(now) })));
  });

  it('an event that cannot be written undoes its operation: the money, the counters and the record stay as they were', async () => {
    const now = Date.now();
    const a = `a_${uid()}`;
    await s().post(a, { amount: 1000, kind: 'grant' }, now);
    // No eventId: the outbox's NOT NULL refuses the row, inside the operation's own transaction.
    const bad = { ...row('balance.low'), eventId: undefined } as unknown as OutboxRow;
    const caps = [{ counter: 'cap:x', limit: 10_000, expiresAt: now + 60_000 }];
    const charge = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 0, price: 900, caps, events: { low: { below: 500, rows: [bad] } } };
    await expect(s().charge(a, charge, now)).rejects.toThrow();
    await expect(s().post(a, { amount: 5, kind: 'grant', events: { done: [bad] } }, now)).rejects.toThrow();
    await expect(s().put(a, 'keys', 'k', { value: new Uint8Array([1]), size: 1, tag: 't', expiresAt: null, events: { done: [bad] } }, now)).rejects.toThrow();
    expect(await s().balance(a, now)).toBe(1000);
    expect(await s().counter(a, 'cap:x', now)).toBe(0);
    expect(await s().ledger(a, { limit: 10 })).toHaveLength(1);
    expect(await s().get(a, 'keys', 'k', now)).toBeNull();
  });

  it('a schema made before the outbox gets its table and function on init', async () => {
    const fresh = newSchema();
    await admin.query(schemaStatements('postgres', fresh).slice(0, -5).join(';\n'));
    const upgraded = (await postgresStoreFromUrl(url!, { timeoutMs: 10_000, prefix: fresh, sweepIntervalMs: 0 })) as PostgresStore;
    try {
      await upgraded.init();
      const now = Date.now();
      const r = row('t');
      expect(await upgraded.outbox.insert('old', [r], 3, now)).toBe(1);
      expect(await upgraded.outbox.get('old', r.id)).toMatchObject({ balance: 3 });
    } finally {
      await upgraded.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
    }
  });
});
