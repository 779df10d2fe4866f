// The storage conformance suite: run unchanged against every Store implementation.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { PutInput, Store } from '../../src/storage/contract.js';
import { chargeAuthConformance } from './conformance-charge-auth.js';
import { outboxConformance } from './conformance-outbox.js';
import { searchConformance } from './conformance-search.js';
import { usageConformance } from './conformance-usage.js';
import { voidConformance } from './conformance-void.js';

export interface StoreHarness {
  store: Store;
  /** Removes everything the run wrote (own key prefix / schema) and closes connections. */
  cleanup(): Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const input = (value: string, expiresAt: number | null = null): PutInput => ({ value: bytes(value), size: value.length, tag: `t${value.length}`, expiresAt });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the whole suite for one backend. `make` returns null when the backend is unreachable (skipped). */
export function storageConformance(name: string, make: () => Promise<StoreHarness | null>): void {
  describe(`storage conformance: ${name}`, () => {
    let h: StoreHarness | null = null;
    // Every test skips itself when `make` found no backend (its notice was already printed).
    const it = (title: string, fn: () => Promise<void>) => vitestIt(title, async (ctx) => (h ? fn() : ctx.skip()));
    const acct = () => `acct_${randomUUID().slice(0, 8)}`;
    beforeAll(async () => {
      h = await make();
      if (h) await h.store.init();
    });
    afterAll(async () => {
      await h?.cleanup();
    });
    const s = () => h!.store;

    it('puts, gets, versions and keeps createdAt', async () => {
      const a = acct();
      const now = Date.now();
      const r1 = await s().put(a, 'm:u1', 'k', input('{"a":1}'), now);
      expect(r1).toMatchObject({ ok: true, created: true, record: { version: 1, createdAt: now, updatedAt: now, size: 7 } });
      const r2 = await s().put(a, 'm:u1', 'k', input('{"a":2}'), now + 5);
      expect(r2).toMatchObject({ ok: true, created: false, record: { version: 2, createdAt: now, updatedAt: now + 5 } });
      const got = await s().get(a, 'm:u1', 'k', now + 6);
      expect(got && text(got.value)).toBe('{"a":2}');
      expect(got).toMatchObject({ key: 'k', version: 2, tag: 't7', expiresAt: null });
      expect(await s().get(a, 'm:u1', 'missing', now)).toBeNull();
    });

    it('stores arbitrary bytes and awkward keys exactly', async () => {
      const a = acct();
      const raw = new Uint8Array([0, 255, 1, 128, 10, 13, 0]);
      const keys = ['a:b', '{x}', 'ü/ñ', '__proto__', 'with space', "q'uote", 'x'.repeat(256)];
      for (const key of keys) await s().put(a, 'c', key, { value: raw, size: raw.length, tag: 'b', expiresAt: null }, Date.now());
      for (const key of keys) expect(Array.from((await s().get(a, 'c', key, Date.now()))!.value)).toEqual(Array.from(raw));
      const listed = await s().list(a, 'c', { limit: 100 }, Date.now());
      expect(listed.map((r) => r.key)).toEqual([...keys].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y)))));
    });

    it('compare-and-set: version and absent conditions', async () => {
      const a = acct();
      const now = Date.now();
      expect(await s().put(a, 'c', 'k', input('1'), now, { version: 1 })).toEqual({ ok: false, current: null });
      expect((await s().put(a, 'c', 'k', input('1'), now, { absent: true })).ok).toBe(true);
      const clash = await s().put(a, 'c', 'k', input('2'), now, { absent: true });
      expect(clash).toMatchObject({ ok: false, current: { version: 1 } });
      expect((await s().put(a, 'c', 'k', input('2'), now, { version: 1 })).ok).toBe(true);
      expect(await s().delete(a, 'c', 'k', now, { version: 1 })).toMatchObject({ ok: false, current: { version: 2 } });
      expect(await s().delete(a, 'c', 'k', now, { version: 2 })).toEqual({ ok: true, deleted: true });
      expect(await s().delete(a, 'c', 'k', now)).toEqual({ ok: true, deleted: false });
    });

    it('never returns or lists an expired record, and a write after expiry starts over', async () => {
      const a = acct();
      const now = Date.now();
      await s().put(a, 'c', 'short', input('"s"', now + 150), now);
      await s().put(a, 'c', 'long', input('"l"', now + 60_000), now);
      expect(await s().get(a, 'c', 'short', Date.now())).not.toBeNull();
      await sleep(250);
      const later = Date.now();
      expect(await s().get(a, 'c', 'short', later)).toBeNull();
      expect((await s().list(a, 'c', { limit: 10 }, later)).map((r) => r.key)).toEqual(['long']);
      const again = await s().put(a, 'c', 'short', input('"t"'), later, { absent: true });
      expect(again).toMatchObject({ ok: true, created: true, record: { version: 1 } });
    });

    it('lists by prefix with a cursor, sorted, without values', async () => {
      const a = acct();
      const now = Date.now();
      for (const key of ['b2', 'a1', 'b1', 'b3', 'c1']) await s().put(a, 'c', key, input('0'), now);
      const page1 = await s().list(a, 'c', { prefix: 'b', limit: 2 }, now);
      expect(page1.map((r) => r.key)).toEqual(['b1', 'b2']);
      expect(page1[0]).not.toHaveProperty('value');
      const page2 = await s().list(a, 'c', { prefix: 'b', after: 'b2', limit: 2 }, now);
      expect(page2.map((r) => r.key)).toEqual(['b3']);
      expect((await s().list(a, 'c', { limit: 10 }, now)).length).toBe(5);
    });

    it('isolates accounts and collections', async () => {
      const [a, b] = [acct(), acct()];
      const now = Date.now();
      await s().put(a, 'm:u', 'k', input('"a"'), now);
      await s().put(b, 'm:u', 'k', input('"b"'), now);
      await s().put(a, 'm:u2', 'k', input('"a2"'), now);
      expect(text((await s().get(a, 'm:u', 'k', now))!.value)).toBe('"a"');
      expect(text((await s().get(b, 'm:u', 'k', now))!.value)).toBe('"b"');
      expect(await s().purge(a, 'm:u')).toBe(1);
      expect(await s().get(a, 'm:u', 'k', now)).toBeNull();
      expect(await s().get(b, 'm:u', 'k', now)).not.toBeNull();
      expect(await s().get(a, 'm:u2', 'k', now)).not.toBeNull();
      expect(await s().list(a, 'm:u', { limit: 10 }, now)).toEqual([]);
    });

    it('200 concurrent compare-and-set writers lose no update', async () => {
      const a = acct();
      await s().put(a, 'c', 'n', input('0'), Date.now());
      const writer = async () => {
        for (;;) {
          const cur = (await s().get(a, 'c', 'n', Date.now()))!;
          const next = String(Number(text(cur.value)) + 1);
          const r = await s().put(a, 'c', 'n', input(next), Date.now(), { version: cur.version });
          if (r.ok) return;
        }
      };
      await Promise.all(Array.from({ length: 200 }, writer));
      const end = (await s().get(a, 'c', 'n', Date.now()))!;
      expect(text(end.value)).toBe('200');
      expect(end.version).toBe(201);
    });

    it('counters add and expire', async () => {
      const a = acct();
      const exp = Date.now() + 200;
      expect(await s().incr(a, 'x', 1, exp)).toBe(1);
      expect(await s().incr(a, 'x', 2, exp)).toBe(3);
      expect(await s().counter(a, 'x', Date.now())).toBe(3);
      await sleep(300);
      expect(await s().counter(a, 'x', Date.now())).toBe(0);
      expect(await s().incr(a, 'x', 1, Date.now() + 1000)).toBe(1);
    });

    it('1,000 concurrent debits against a balance of 500: exactly 500 succeed, balance 0', async () => {
      const a = acct();
      await s().post(a, { amount: 500, kind: 'grant', reference: 'g1' }, Date.now());
      const results = await Promise.all(Array.from({ length: 1000 }, () => s().post(a, { amount: -1, kind: 'debit' }, Date.now())));
      expect(results.filter((r) => r.ok).length).toBe(500);
      expect(results.filter((r) => !r.ok && r.reason === 'insufficient_funds').length).toBe(500);
      expect(await s().balance(a, Date.now())).toBe(0);
      const entries = await s().ledger(a, { limit: 1000 });
      expect(entries.length).toBe(501);
      expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
    });

    it('a reference is credited once; the ledger lists newest first with a cursor', async () => {
      const a = acct();
      const now = Date.now();
      expect(await s().post(a, { amount: 10, kind: 'grant', reference: 'r1', memo: 'hello' }, now)).toMatchObject({ ok: true, balance: 10 });
      expect(await s().post(a, { amount: 10, kind: 'grant', reference: 'r1' }, now)).toEqual({ ok: false, reason: 'duplicate', balance: 10 });
      await s().post(a, { amount: -3, kind: 'debit' }, now);
      await s().post(a, { amount: 5, kind: 'purchase', reference: 'r2' }, now);
      const page1 = await s().ledger(a, { limit: 2 });
      expect(page1.map((e) => [e.seq, e.amount, e.kind, e.balanceAfter])).toEqual([[3, 5, 'purchase', 12], [2, -3, 'debit', 7]]);
      const page2 = await s().ledger(a, { before: 2, limit: 2 });
      expect(page2).toEqual([{ seq: 1, accountId: a, amount: 10, kind: 'grant', reference: 'r1', memo: 'hello', createdAt: now, balanceAfter: 10 }]);
    });

    it('charge: free calls first, then debits, never below zero, refunds give back', async () => {
      const a = acct();
      const now = Date.now();
      const w = { window: '2026-11-24', windowExpiresAt: now + 60_000, freeLimit: 2, price: 100 };
      await s().post(a, { amount: 250, kind: 'grant' }, now);
      const r = [];
      for (let i = 0; i < 5; i++) r.push(await s().charge(a, w, now));
      expect(r.map((x) => (x.ok ? (x.free ? 'free' : 'paid') : 'refused'))).toEqual(['free', 'free', 'paid', 'paid', 'refused']);
      expect(r[4]).toEqual({ ok: false, freeUsed: 2, balance: 50 });
      // What the meter does on a store whose answers cannot be lost: a 'refund' entry, a free call given back.
      expect(await s().post(a, { amount: 100, kind: 'refund' }, now)).toMatchObject({ ok: true, balance: 150 });
      expect(await s().incr(a, `free:${w.window}`, -1, w.windowExpiresAt)).toBe(1);
      expect(await s().charge(a, w, now)).toMatchObject({ ok: true, free: true, freeUsed: 2 });
      expect((await s().ledger(a, { limit: 10 })).map((e) => e.kind)).toEqual(['refund', 'debit', 'debit', 'grant']);
    });

    it('concurrent charges are exact: free calls plus what the balance covers', async () => {
      const a = acct();
      const now = Date.now();
      await s().post(a, { amount: 1000, kind: 'grant' }, now);
      const w = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 10, price: 10 };
      const results = await Promise.all(Array.from({ length: 300 }, () => s().charge(a, w, Date.now())));
      expect(results.filter((x) => x.ok && x.free).length).toBe(10);
      expect(results.filter((x) => x.ok && !x.free).length).toBe(100);
      expect(await s().balance(a, Date.now())).toBe(0);
    });

    chargeAuthConformance(it, s, acct);
    voidConformance(it, s, acct);
    searchConformance(it, s, acct);
    usageConformance(it, s, acct);
    outboxConformance(it, s, acct);

    it('holds reserve, settle the actual amount, and expire by themselves', async () => {
      const a = acct();
      const now = Date.now();
      await s().post(a, { amount: 1000, kind: 'grant' }, now);
      expect(await s().hold(a, { holdId: 'h1', amount: 800, expiresAt: now + 60_000 }, now)).toEqual({ ok: true, balance: 200 });
      expect(await s().hold(a, { holdId: 'h2', amount: 300, expiresAt: now + 60_000 }, now)).toMatchObject({ ok: false, reason: 'insufficient_funds' });
      expect(await s().settle(a, 'h1', 300, now)).toMatchObject({ ok: true, charged: 300, balance: 700 });
      expect(await s().settle(a, 'h1', 300, now)).toMatchObject({ ok: false, reason: 'unknown_hold' });
      expect(await s().hold(a, { holdId: 'h3', amount: 700, expiresAt: Date.now() + 150 }, Date.now())).toEqual({ ok: true, balance: 0 });
      await sleep(250);
      expect(await s().balance(a, Date.now())).toBe(700);
      const kinds = (await s().ledger(a, { limit: 10 })).map((e) => e.kind);
      expect(kinds).toEqual(['release', 'hold', 'settle', 'hold', 'grant']);
      // Settling beyond the hold charges only what the balance covers.
      await s().hold(a, { holdId: 'h4', amount: 100, expiresAt: Date.now() + 60_000 }, Date.now());
      expect(await s().settle(a, 'h4', 10_000, Date.now())).toMatchObject({ ok: true, charged: 700, balance: 0 });
      const entries = await s().ledger(a, { limit: 100 });
      expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
    });

    it('claim admits exactly one of many concurrent inserts, globally or per scope', async () => {
      const key = `tx:${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s().claim(null, key, `v${i}`, null, Date.now())));
      const winners = results.filter((r) => r.inserted);
      expect(winners.length).toBe(1);
      const a = acct();
      expect(await s().claim(a, key, 'mine', Date.now() + 60_000, Date.now())).toEqual({ inserted: true });
      await s().updateClaim(a, key, 'final', Date.now() + 60_000);
      expect(await s().claim(a, key, 'again', null, Date.now())).toEqual({ inserted: false, value: 'final' });
      await s().releaseClaim(a, key);
      expect(await s().claim(a, key, 'again', null, Date.now())).toEqual({ inserted: true });
      await s().releaseClaim(a, key);
      await s().releaseClaim(null, key);
    });

    it('an expired claim can be claimed again', async () => {
      const key = `idem:${randomUUID()}`;
      expect(await s().claim('scope1', key, 'a', Date.now() + 100, Date.now())).toEqual({ inserted: true });
      await sleep(200);
      expect(await s().claim('scope1', key, 'b', null, Date.now())).toEqual({ inserted: true });
      await s().releaseClaim('scope1', key);
    });
  });
}
