// Conformance of `void` (charges and holds have identities): undo once if committed, refuse if it arrives later; part of the storage suite.
import { expect } from 'vitest';
import type { ChargeInput, ChargeResult, Store } from '../../src/storage/contract.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIN = 60_000;

/** Registers the tests inside storageConformance's describe (its skipping `it`, store and account factory). */
export function voidConformance(it: (title: string, fn: () => Promise<void>) => void, s: () => Store, acct: () => string): void {
  const charge = (id: string, price = 100, freeLimit = 0, until = Date.now() + 10 * MIN): ChargeInput => ({
    window: 'w', windowExpiresAt: Date.now() + 10 * MIN, freeLimit, price, memo: `call ${id}`, voidable: { id, until },
  });
  const voidOf = (id: string, memo?: string) => ({ id, window: 'w', until: Date.now() + 10 * MIN, memo });
  const sumsToBalance = async (a: string) => {
    const entries = await s().ledger(a, { limit: 1000 });
    expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(await s().balance(a, Date.now()));
  };

  it('void after commit gives back exactly once: a debit as a refund entry, a free call as a call; a second void changes nothing', async () => {
    const a = acct();
    await s().post(a, { amount: 1000, kind: 'grant' }, Date.now());
    expect(await s().charge(a, charge('free-1', 100, 1), Date.now())).toMatchObject({ ok: true, free: true, freeUsed: 1 });
    expect(await s().charge(a, charge('paid-1'), Date.now())).toMatchObject({ ok: true, free: false, balance: 900 });
    const back = await s().void(a, voidOf('paid-1', 'refund paid-1'), Date.now());
    expect(back).toMatchObject({ outcome: 'given_back', free: false, balance: 1000, entry: { kind: 'refund', amount: 100, memo: 'refund paid-1' } });
    expect(await s().void(a, voidOf('paid-1'), Date.now())).toEqual({ outcome: 'already', balance: 1000 });
    expect(await s().void(a, voidOf('free-1'), Date.now())).toEqual({ outcome: 'given_back', free: true, balance: 1000, entry: null });
    expect(await s().counter(a, 'free:w', Date.now())).toBe(0);
    expect(await s().void(a, voidOf('free-1'), Date.now())).toEqual({ outcome: 'already', balance: 1000 });
    expect(await s().counter(a, 'free:w', Date.now())).toBe(0);
    // A voided id stays refused: the same charge sent again takes nothing.
    expect(await s().charge(a, charge('paid-1'), Date.now())).toEqual({ ok: false, voided: true });
    expect((await s().ledger(a, { limit: 10 })).map((e) => [e.kind, e.amount])).toEqual([['refund', 100], ['debit', -100], ['grant', 1000]]);
    await sumsToBalance(a);
  });

  it('void before commit refuses the late charge and the late hold, which take nothing', async () => {
    const a = acct();
    await s().post(a, { amount: 1000, kind: 'grant' }, Date.now());
    expect(await s().void(a, voidOf('lost'), Date.now())).toEqual({ outcome: 'refused', balance: 1000 });
    expect(await s().charge(a, charge('lost', 100, 5), Date.now())).toEqual({ ok: false, voided: true });
    expect(await s().counter(a, 'free:w', Date.now())).toBe(0);
    expect(await s().void(a, voidOf('hold-lost'), Date.now())).toEqual({ outcome: 'refused', balance: 1000 });
    expect(await s().hold(a, { holdId: 'hold-lost', amount: 10, expiresAt: Date.now() + MIN }, Date.now())).toEqual({ ok: false, reason: 'voided', balance: 1000 });
    // An id already used is refused as well: one id, one charge.
    expect(await s().charge(a, charge('once'), Date.now())).toMatchObject({ ok: true, balance: 900 });
    expect(await s().charge(a, charge('once'), Date.now())).toEqual({ ok: false, voided: true });
    expect(await s().void(a, voidOf('lost'), Date.now())).toEqual({ outcome: 'already', balance: 900 });
    expect((await s().ledger(a, { limit: 10 })).map((e) => e.kind)).toEqual(['debit', 'grant']);
    await sumsToBalance(a);
  });

  it('a charge reaching the store after its voidable.until (by the store clock) is refused', async () => {
    const a = acct();
    await s().post(a, { amount: 1000, kind: 'grant' }, Date.now());
    // Two minutes in the past: whatever small skew the store's clock has, this one is late.
    expect(await s().charge(a, charge('late', 100, 0, Date.now() - 2 * MIN), Date.now() - 3 * MIN)).toEqual({ ok: false, voided: true });
    expect(await s().balance(a, Date.now())).toBe(1000);
  });

  it('void of a placed hold releases it once; the hold can no longer be settled', async () => {
    const a = acct();
    await s().post(a, { amount: 1000, kind: 'grant' }, Date.now());
    expect(await s().hold(a, { holdId: 'h1', amount: 800, expiresAt: Date.now() + MIN }, Date.now())).toEqual({ ok: true, balance: 200 });
    const back = await s().void(a, voidOf('h1', 'void h1'), Date.now());
    expect(back).toMatchObject({ outcome: 'given_back', free: false, balance: 1000, entry: { kind: 'release', amount: 800, reference: 'hold:h1', memo: 'void h1' } });
    expect(await s().void(a, voidOf('h1'), Date.now())).toEqual({ outcome: 'already', balance: 1000 });
    expect(await s().settle(a, 'h1', 300, Date.now())).toMatchObject({ ok: false, reason: 'unknown_hold' });
    expect(await s().hold(a, { holdId: 'h1', amount: 800, expiresAt: Date.now() + MIN }, Date.now())).toMatchObject({ ok: false, reason: 'voided' });
    await sumsToBalance(a);
  });

  it('a charge id is honoured until its `until`, then forgotten: a void after that gives nothing back', async () => {
    const a = acct();
    await s().post(a, { amount: 1000, kind: 'grant' }, Date.now());
    expect(await s().charge(a, charge('short', 100, 0, Date.now() + 300), Date.now())).toMatchObject({ ok: true, balance: 900 });
    await sleep(400);
    expect(await s().void(a, voidOf('short'), Date.now())).toEqual({ outcome: 'refused', balance: 900 });
    await sumsToBalance(a);
  });

  it('concurrent charges and voids stay exact: each voided id is either given back or refused, never both, never twice', async () => {
    const a = acct();
    await s().post(a, { amount: 10_000, kind: 'grant' }, Date.now());
    const ids = Array.from({ length: 300 }, (_, i) => `c${i}`);
    const voided = new Set(ids.filter((_, i) => i % 3 === 0));
    const charges = ids.map((id) => s().charge(a, { ...charge(id, 10, 10) }, Date.now()));
    // Each voided id twice at once: one of the two does the work, the other finds it done.
    const voids = [...voided].flatMap((id) => [s().void(a, voidOf(id), Date.now()), s().void(a, voidOf(id), Date.now())]);
    const [charged, undone] = [await Promise.all(charges), await Promise.all(voids)];
    const byId = new Map(ids.map((id, i) => [id, charged[i]!] as [string, ChargeResult]));
    let freeStanding = 0;
    let paidStanding = 0;
    [...voided].forEach((id, i) => {
      const outcomes = [undone[2 * i]!.outcome, undone[2 * i + 1]!.outcome].sort();
      const c = byId.get(id)!;
      if (c.ok) expect(outcomes, id).toEqual(['already', 'given_back']);
      else expect([outcomes, c], id).toEqual([['already', 'refused'], { ok: false, voided: true }]);
    });
    for (const id of ids) {
      const c = byId.get(id)!;
      if (voided.has(id) || !c.ok) continue;
      if (c.free) freeStanding++;
      else paidStanding++;
    }
    expect(await s().counter(a, 'free:w', Date.now())).toBe(freeStanding);
    expect(await s().balance(a, Date.now())).toBe(10_000 - 10 * paidStanding);
    await sumsToBalance(a);
  });
}
