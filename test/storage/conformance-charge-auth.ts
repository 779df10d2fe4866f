// Conformance of `charge` with `auth` (the API key verified in the same atomic operation), part of the storage suite.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { ChargeInput, PutInput, Store } from '../../src/storage/contract.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** An API key record as KeyService writes it: the 32-byte hash, then a label. */
const keyRecord = (hash: Uint8Array, tag = 'active', expiresAt: number | null = null): PutInput => {
  const value = Buffer.concat([hash, Buffer.from('label')]);
  return { value, size: value.length, tag, expiresAt };
};

/** Registers the tests inside storageConformance's describe (its skipping `it`, store and account factory). */
export function chargeAuthConformance(it: (title: string, fn: () => Promise<void>) => void, s: () => Store, acct: () => string): void {
  it('charge with auth: only a live record with the tag and hash pays; any other takes and writes nothing', async () => {
    expect(s().info.chargeAuth).toBe(true);
    const [a, b] = [acct(), acct()];
    const now = Date.now();
    const hash = sha256('secret-1');
    await s().put(a, 'keys', 'k1', keyRecord(hash), now);
    await s().put(a, 'keys', 'revoked', keyRecord(hash, 'revoked'), now);
    await s().put(a, 'keys', 'short-lived', keyRecord(hash, 'active', now + 1000), now);
    await s().put(a, 'other', 'k1', keyRecord(hash), now);
    await s().put(a, 'keys', 'tiny', { value: hash.subarray(0, 31), size: 31, tag: 'active', expiresAt: null }, now);
    await s().post(a, { amount: 250, kind: 'grant' }, now);
    const w = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 1, price: 100 };
    const charge = (key: string, h: Uint8Array = hash, collection = 'keys'): ChargeInput => ({ ...w, auth: { collection, key, tag: 'active', hash: h } });
    const forged: [string, ChargeInput, number][] = [
      ['wrong hash', charge('k1', sha256('secret-2')), now],
      ['revoked', charge('revoked'), now],
      ['missing', charge('nobody'), now],
      ['expired', charge('short-lived'), now + 1000],
      ['another collection', charge('k1', hash, 'nothing-here'), now],
      ['a 31-byte prefix of the hash', charge('k1', hash.subarray(0, 31)), now],
      ['a record shorter than the hash', charge('tiny', hash.subarray(0, 31)), now],
      ['an empty hash', charge('k1', new Uint8Array(0)), now],
    ];
    const refuseAll = async () => {
      for (const [why, input, at] of forged) expect(await s().charge(a, input, at), why).toEqual({ ok: false, unauthorized: true });
      // The record of account a proves nothing for account b, which gets no counter or entry from the attempt.
      expect(await s().charge(b, charge('k1'), now + 5)).toEqual({ ok: false, unauthorized: true });
      expect(await s().counter(b, 'free:w', now)).toBe(0);
      // Not even housekeeping runs for a refused caller: b's expired hold is still unreleased afterwards.
      expect((await s().ledger(b, { limit: 10 })).map((e) => e.kind)).toEqual(['hold', 'grant']);
    };
    await s().post(b, { amount: 50, kind: 'grant' }, now);
    await s().hold(b, { holdId: 'h', amount: 20, expiresAt: now + 1 }, now);
    await refuseAll(); // a free call is left: none is taken
    expect(await s().counter(a, 'free:w', now)).toBe(0);
    expect(await s().charge(a, charge('k1'), now)).toMatchObject({ ok: true, free: true, freeUsed: 1, balance: 250 });
    expect(await s().charge(a, charge('short-lived'), now + 999)).toMatchObject({ ok: true, free: false, freeUsed: 1, balance: 150 });
    await refuseAll(); // only paid calls are left: nothing is debited
    expect(await s().charge(a, charge('k1'), now)).toMatchObject({ ok: true, free: false, balance: 50 });
    expect(await s().charge(a, charge('k1'), now)).toEqual({ ok: false, freeUsed: 1, balance: 50 });
    expect(await s().counter(a, 'free:w', now)).toBe(1);
    expect((await s().ledger(a, { limit: 10 })).map((e) => [e.kind, e.amount])).toEqual([['debit', -100], ['debit', -100], ['grant', 250]]);
  });

  it('charge with a scope: a scoped tag admits only the scopes its list names; the plain tag admits any', async () => {
    const a = acct();
    const now = Date.now();
    const hash = sha256('secret-scoped');
    const tags: Record<string, string> = {
      full: 'active', read: 'active;memory:read', two: 'active;claude,memory:read', lookalike: 'activex;memory:read',
      empty: 'active;', revoked: 'revoked;memory:read', comma: 'active,memory:read',
    };
    for (const [key, tag] of Object.entries(tags)) await s().put(a, 'keys', key, keyRecord(hash, tag), now);
    await s().put(a, 'keys', 'short', keyRecord(hash, 'active;memory:read', now + 1000), now);
    await s().post(a, { amount: 1000, kind: 'grant' }, now);
    // No free calls: every admitted charge debits 10, every refused one takes nothing.
    const charge = (key: string, scope: string | undefined, h: Uint8Array = hash): ChargeInput => ({
      window: 'w', windowExpiresAt: now + 60_000, freeLimit: 0, price: 10, auth: { collection: 'keys', key, tag: 'active', hash: h, ...(scope !== undefined && { scope }) },
    });
    const cases: [string, ChargeInput, number, boolean][] = [
      ['full key, no scope asked', charge('full', undefined), now, true],
      ['full key, any scope', charge('full', 'memory:write'), now, true],
      ['scoped key, its scope', charge('read', 'memory:read'), now, true],
      ['scoped key, its last scope', charge('two', 'memory:read'), now, true],
      ['scoped key, its first scope', charge('two', 'claude'), now, true],
      ['scoped key, live until later', charge('short', 'memory:read'), now + 999, true],
      ['scoped key, another scope', charge('read', 'memory:write'), now, false],
      ['scoped key, no scope asked', charge('read', undefined), now, false],
      ['scoped key, an empty scope', charge('read', ''), now, false],
      ['scoped key, a prefix of its scope', charge('read', 'memory'), now, false],
      ['scoped key, a scope list that is not one of its scopes', charge('two', 'claude,memory:read'), now, false],
      ['scoped key, a scope it lacks', charge('two', 'payments'), now, false],
      ['scoped key, wrong hash', charge('read', 'memory:read', sha256('guess')), now, false],
      ['scoped key, expired', charge('short', 'memory:read'), now + 1000, false],
      ['a tag that only starts like the wanted one', charge('lookalike', 'memory:read'), now, false],
      ['an empty scope list', charge('empty', 'memory:read'), now, false],
      ['a revoked scoped key', charge('revoked', 'memory:read'), now, false],
      ['another separator', charge('comma', 'memory:read'), now, false],
    ];
    let paid = 0;
    for (const [why, input, at, admitted] of cases) {
      const r = await s().charge(a, input, at);
      if (admitted) expect(r, why).toMatchObject({ ok: true, free: false, balance: 1000 - 10 * ++paid });
      else expect(r, why).toEqual({ ok: false, unauthorized: true });
    }
    expect(await s().balance(a, now)).toBe(1000 - 10 * paid);
    expect((await s().ledger(a, { limit: 100 })).filter((e) => e.kind === 'debit')).toHaveLength(paid);
    expect(await s().counter(a, 'free:w', now)).toBe(0);
  });

  it('charge with auth stays exact under concurrency, forged keys and a revocation mid-flight', async () => {
    const a = acct();
    const now = Date.now();
    const hash = sha256('secret-3');
    await s().put(a, 'keys', 'k', keyRecord(hash), now);
    await s().post(a, { amount: 1000, kind: 'grant' }, now);
    const w = { window: 'w', windowExpiresAt: now + 60_000, freeLimit: 10, price: 10 };
    const good = { ...w, auth: { collection: 'keys', key: 'k', tag: 'active', hash } };
    const bad = { ...w, auth: { collection: 'keys', key: 'k', tag: 'active', hash: sha256('guess') } };
    const first = await Promise.all(Array.from({ length: 300 }, (_, i) => s().charge(a, i % 3 === 2 ? bad : good, Date.now())));
    expect(first.filter((x) => x.ok && x.free).length).toBe(10);
    expect(first.filter((x) => x.ok && !x.free).length).toBe(100);
    expect(first.filter((x) => !x.ok && 'unauthorized' in x).length).toBe(100);
    expect(await s().balance(a, Date.now())).toBe(0);

    // Revoked while 200 charges run: each one either took its price and said so, or took nothing.
    await s().post(a, { amount: 2000, kind: 'grant' }, now);
    const racing = Array.from({ length: 200 }, () => s().charge(a, good, Date.now()));
    await s().put(a, 'keys', 'k', keyRecord(hash, 'revoked'), Date.now());
    const results = await Promise.all(racing);
    const paid = results.filter((x) => x.ok).length;
    expect(paid + results.filter((x) => !x.ok && 'unauthorized' in x).length).toBe(200);
    expect(await s().balance(a, Date.now())).toBe(2000 - 10 * paid);
    expect(await s().charge(a, good, Date.now())).toEqual({ ok: false, unauthorized: true });
    const entries = await s().ledger(a, { limit: 1000 });
    expect(entries.filter((e) => e.kind === 'debit').length).toBe(100 + paid);
    expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(2000 - 10 * paid);
  });
}
