// Conformance of usage counting (UsageInput): counted in the same operation as the money, exactly once, only when it took effect; part of the storage suite.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { ChargeInput, Store } from '../../src/storage/contract.js';
import { usageBucket, type UsageInput } from '../../src/storage/usage.js';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the tests inside storageConformance's describe (its skipping `it`, store and account factory). */
export function usageConformance(it: (title: string, fn: () => Promise<void>) => void, s: () => Store, acct: () => string): void {
  const usageAt = (now: number, extra: Partial<UsageInput> = {}): UsageInput => ({ bucket: usageBucket(now), expiresAt: Date.now() + 2 * HOUR, ...extra });
  const charge = (now: number, price: number, freeLimit: number, extra: Partial<ChargeInput> = {}): ChargeInput => ({
    window: 'w', windowExpiresAt: now + HOUR, freeLimit, price, usage: usageAt(now, { keyId: 'key_a' }), ...extra,
  });
  /** The counters of the hour of `now`, {} when it has none. */
  const hour = async (a: string, now: number) => {
    const b = usageBucket(now);
    const got = await s().usage!(a, b, b, Date.now());
    expect(got.length).toBeLessThanOrEqual(1);
    return got[0]?.fields ?? {};
  };

  it('usage: charges count free and paid calls and the spend; a refused charge counts no call but the key was used', async () => {
    expect(s().info.usage).toBe(true);
    const a = acct();
    const now = Date.now();
    expect(await s().post(a, { amount: 1000, kind: 'grant', usage: usageAt(now) }, now)).toMatchObject({ ok: true });
    for (let i = 0; i < 4; i++) expect(await s().charge(a, charge(now, 100, 2), now)).toMatchObject({ ok: true });
    expect(await s().charge(a, charge(now, 5000, 2, { usage: usageAt(now, { keyId: 'key_b' }) }), now + 1)).toMatchObject({ ok: false, balance: 800 });
    // Without usage nothing is counted, as before.
    expect(await s().charge(a, charge(now, 100, 2, { usage: undefined }), now)).toMatchObject({ ok: true, balance: 700 });
    expect(await hour(a, now)).toEqual({ free: 2, paid: 2, spent: 200, credited: 1000 });
    expect(await s().lastUsed!(a)).toEqual({ key_a: now, key_b: now + 1 });
    expect(await s().lastUsed!(acct())).toEqual({});
  });

  it('usage: 40 parallel charges count exactly 40 (10 free, 25 paid: the balance covers 25), with the key used once each', async () => {
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 250, kind: 'grant' }, now);
    const rs = await Promise.all(Array.from({ length: 40 }, () => s().charge(a, charge(now, 10, 10), now)));
    expect(rs.filter((r) => r.ok).length).toBe(35);
    expect(await hour(a, now)).toEqual({ free: 10, paid: 25, spent: 250 });
    expect(await s().balance(a, now)).toBe(0);
  });

  it('usage: a charge with a failing key check or a voided id counts nothing, not even the key', async () => {
    const a = acct();
    const now = Date.now();
    const hash = createHash('sha256').update('secret').digest();
    await s().put(a, 'keys', 'k1', { value: hash, size: 32, tag: 'active', expiresAt: null }, now);
    const auth = { collection: 'keys', key: 'k1', tag: 'active', hash: createHash('sha256').update('guess').digest() };
    expect(await s().charge(a, charge(now, 100, 5, { auth }), now)).toEqual({ ok: false, unauthorized: true });
    expect(await s().void(a, { id: 'gone', window: 'w', until: now + HOUR }, now)).toMatchObject({ outcome: 'refused' });
    expect(await s().charge(a, charge(now, 100, 5, { voidable: { id: 'gone', until: now + HOUR } }), now)).toEqual({ ok: false, voided: true });
    expect(await s().usage!(a, usageBucket(now - HOUR), usageBucket(now + HOUR), Date.now())).toEqual([]);
    expect(await s().lastUsed!(a)).toEqual({});
    expect(await s().charge(a, charge(now, 100, 5, { auth: { ...auth, hash } }), now)).toMatchObject({ ok: true, free: true });
    expect(await s().lastUsed!(a)).toEqual({ key_a: now });
  });

  it('usage: a voided charge counts as given back (a free call, or the price as refunded), once; a released hold counts nothing', async () => {
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 1000, kind: 'grant' }, now);
    const until = now + 10 * 60_000;
    expect(await s().charge(a, charge(now, 100, 1, { voidable: { id: 'c-free', until } }), now)).toMatchObject({ ok: true, free: true });
    expect(await s().charge(a, charge(now, 100, 1, { voidable: { id: 'c-paid', until } }), now)).toMatchObject({ ok: true, free: false });
    await s().hold(a, { holdId: 'h1', amount: 300, expiresAt: now + HOUR }, now);
    for (let i = 0; i < 2; i++) {
      for (const id of ['c-free', 'c-paid', 'h1']) await s().void(a, { id, window: 'w', until, usage: usageAt(now) }, now);
    }
    expect(await hour(a, now)).toEqual({ free: 1, paid: 1, spent: 100, refunds: 2, refunded: 100 });
    expect(await s().balance(a, now)).toBe(1000);
  });

  it('usage: settle counts a paid call with what it charged and the caller\'s tokens; a settle charging nothing counts no call', async () => {
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 1000, kind: 'grant' }, now);
    await s().hold(a, { holdId: 'h1', amount: 500, expiresAt: now + HOUR }, now);
    await s().hold(a, { holdId: 'h2', amount: 100, expiresAt: now + HOUR }, now);
    const tokens = { 'tok:claude-x:input': 12, 'tok:claude-x:output': 5 };
    expect(await s().settle(a, 'h1', 120, now, 'm', usageAt(now, { add: tokens }))).toMatchObject({ ok: true, charged: 120 });
    expect(await s().settle(a, 'h2', 0, now, 'm', usageAt(now, { add: { 'tok:claude-x:input': 3 } }))).toMatchObject({ ok: true, charged: 0 });
    expect(await s().settle(a, 'h2', 50, now, 'm', usageAt(now, { add: tokens }))).toMatchObject({ ok: false });
    expect(await hour(a, now)).toEqual({ paid: 1, spent: 120, 'tok:claude-x:input': 15, 'tok:claude-x:output': 5 });
  });

  it('usage: posts count grants and purchases as credited, refunds and debits as calls; a refused post counts nothing', async () => {
    const a = acct();
    const now = Date.now();
    const u = usageAt(now);
    await s().post(a, { amount: 500, kind: 'grant', reference: 'g1', usage: u }, now);
    expect(await s().post(a, { amount: 500, kind: 'grant', reference: 'g1', usage: u }, now)).toMatchObject({ ok: false, reason: 'duplicate' });
    await s().post(a, { amount: 250, kind: 'purchase', reference: 'tx', usage: u }, now);
    await s().post(a, { amount: -40, kind: 'debit', usage: usageAt(now, { add: { 'tok:m:input': 7 } }) }, now);
    await s().post(a, { amount: 40, kind: 'refund', usage: u }, now);
    expect(await s().post(a, { amount: -5000, kind: 'debit', usage: u }, now)).toMatchObject({ ok: false, reason: 'insufficient_funds' });
    expect(await hour(a, now)).toEqual({ credited: 750, paid: 1, spent: 40, refunds: 1, refunded: 40, 'tok:m:input': 7 });
  });

  it('usage: incr adds the caller\'s counters in the same operation as the counter', async () => {
    const a = acct();
    const now = Date.now();
    await s().incr(a, 'free:w', 3, now + HOUR);
    expect(await s().incr(a, 'free:w', -1, now + HOUR, usageAt(now, { add: { refunds: 1 } }))).toBe(2);
    expect(await s().counter(a, 'free:w', now)).toBe(2);
    expect(await hour(a, now)).toEqual({ refunds: 1 });
  });

  it('usage: buckets are read by hour range, oldest first; a bucket past its expiry is gone', async () => {
    const a = acct();
    const now = Date.now();
    const at = [now - 30 * HOUR, now - 2 * HOUR, now - HOUR, now];
    for (const t of at) await s().post(a, { amount: 10, kind: 'grant', usage: usageAt(t) }, t);
    // In a day of its own (the day-keyed stores expire a day's counters together), kept only briefly.
    const old = now - 5 * 24 * HOUR;
    await s().post(a, { amount: 7, kind: 'grant', usage: { bucket: usageBucket(old), expiresAt: Date.now() + 150 } }, now);
    const all = await s().usage!(a, usageBucket(old), usageBucket(now), Date.now());
    expect(all.map((b) => b.bucket)).toEqual([old, ...at].map(usageBucket));
    const some = await s().usage!(a, usageBucket(now - 2 * HOUR), usageBucket(now - HOUR), Date.now());
    expect(some).toEqual([{ bucket: usageBucket(now - 2 * HOUR), fields: { credited: 10 } }, { bucket: usageBucket(now - HOUR), fields: { credited: 10 } }]);
    await sleep(250);
    expect((await s().usage!(a, usageBucket(old), usageBucket(now), Date.now())).map((b) => b.bucket)).toEqual(at.map(usageBucket));
  });
}
