// Conformance of spend caps (SpendCap) and the webhook outbox (OperationEvents, Outbox): counted and written in the same
// operation as the money, exactly once, only when it took effect; part of the storage suite.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ChargeInput, OutboxRow, SpendCap, Store } from '../../src/storage/contract.js';

const HOUR = 3_600_000;

/** Registers the tests inside storageConformance's describe (its skipping `it`, store and account factory). */
export function outboxConformance(it: (title: string, fn: () => Promise<void>) => void, s: () => Store, acct: () => string): void {
  const uid = () => randomUUID().slice(0, 8);
  const row = (type: string, eventId = `evt_${uid()}`, endpoint = 'ep1'): OutboxRow => ({ id: `${eventId}.${endpoint}`, eventId, endpoint, type, data: JSON.stringify({ type, n: 1 }) });
  const caps = (now: number, ...limits: number[]): SpendCap[] => limits.map((limit, i) => ({ counter: `cap:${i}:${uid()}`, limit, expiresAt: now + HOUR }));
  const charge = (now: number, price: number, extra: Partial<ChargeInput> = {}): ChargeInput => ({ window: `w${uid()}`, windowExpiresAt: now + HOUR, freeLimit: 0, price, ...extra });
  const mine = async (a: string) => (await s().outbox!.list({ limit: 1000 })).filter((d) => d.account === a);

  it('caps: a paid charge counts against every cap; the first cap over its limit refuses it and takes nothing', async () => {
    expect(s().info.outbox).toBe(true);
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 10_000, kind: 'grant' }, now);
    const c = caps(now, 1000, 350); // the second is the tighter
    const capped = [[row('spend_cap.reached', `evt_c0_${uid()}`)], [row('spend_cap.reached', `evt_c1_${uid()}`)]];
    for (let i = 0; i < 3; i++) expect(await s().charge(a, charge(now, 100, { caps: c, events: { capped } }), now)).toMatchObject({ ok: true, free: false });
    expect(await s().charge(a, charge(now, 100, { caps: c, events: { capped } }), now)).toEqual({ ok: false, freeUsed: 0, balance: 9700, cap: 1 });
    // A cheaper call still fits; the event is written once however many calls the cap refuses.
    expect(await s().charge(a, charge(now, 50, { caps: c, events: { capped } }), now)).toMatchObject({ ok: true, balance: 9650 });
    expect(await s().charge(a, charge(now, 1, { caps: c, events: { capped } }), now)).toMatchObject({ ok: false, cap: 1 });
    expect(await s().balance(a, now)).toBe(9650);
    expect(await s().counter(a, c[1]!.counter, now)).toBe(350);
    expect(await s().counter(a, c[0]!.counter, now)).toBe(350);
    const rows = await mine(a);
    expect(rows.map((d) => d.id)).toEqual([capped[1]![0]!.id]);
    expect(rows[0]).toMatchObject({ type: 'spend_cap.reached', status: 'pending', attempts: 0, balance: 9700, data: capped[1]![0]!.data });
  });

  it('caps: free calls never count; a void, a refund post and a settle give back; a hold counts and can be refused', async () => {
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 10_000, kind: 'grant' }, now);
    const c = caps(now, 500);
    const names = c.map((x) => x.counter);
    expect(await s().charge(a, charge(now, 100, { freeLimit: 1, caps: c }), now)).toMatchObject({ ok: true, free: true });
    expect(await s().counter(a, names[0]!, now)).toBe(0);
    const id = `chg_${uid()}`;
    const paid = charge(now, 200, { caps: c, voidable: { id, until: now + HOUR } });
    expect(await s().charge(a, paid, now)).toMatchObject({ ok: true, free: false });
    expect(await s().counter(a, names[0]!, now)).toBe(200);
    const refunded = row('credits.refunded');
    expect(await s().void(a, { id, window: paid.window, until: now + HOUR, caps: names, events: { done: [refunded] } }, now)).toMatchObject({ outcome: 'given_back', free: false });
    expect(await s().counter(a, names[0]!, now)).toBe(0);
    // A second void gives nothing back and writes nothing.
    expect(await s().void(a, { id, window: paid.window, until: now + HOUR, caps: names, events: { done: [row('credits.refunded')] } }, now)).toMatchObject({ outcome: 'already' });
    expect(await s().hold(a, { holdId: `h_${uid()}`, amount: 600, expiresAt: now + HOUR, caps: c }, now)).toEqual({ ok: false, reason: 'spend_cap', cap: 0, balance: 10_000 });
    const h = `h_${uid()}`;
    expect(await s().hold(a, { holdId: h, amount: 400, expiresAt: now + HOUR, caps: c }, now)).toMatchObject({ ok: true });
    expect(await s().counter(a, names[0]!, now)).toBe(400);
    expect(await s().settle(a, h, 150, now, 'settled', undefined, names)).toMatchObject({ ok: true, charged: 150 });
    expect(await s().counter(a, names[0]!, now)).toBe(150);
    expect(await s().post(a, { amount: 100, kind: 'refund', caps: names }, now)).toMatchObject({ ok: true });
    expect(await s().counter(a, names[0]!, now)).toBe(50);
    const h2 = `h_${uid()}`;
    await s().hold(a, { holdId: h2, amount: 300, expiresAt: now + HOUR, caps: c }, now);
    expect(await s().void(a, { id: h2, window: '', until: now + HOUR, caps: names, events: { done: [row('credits.refunded')] } }, now)).toMatchObject({ outcome: 'given_back' });
    expect(await s().counter(a, names[0]!, now)).toBe(50);
    // Only the paid charge's void wrote its event: a hold's release is not a refund.
    expect((await mine(a)).map((d) => d.id)).toEqual([refunded.id]);
  });

  it('caps: 40 parallel charges under a cap of 10 calls let exactly 10 through', async () => {
    const a = acct();
    const now = Date.now();
    await s().post(a, { amount: 100_000, kind: 'grant' }, now);
    const c = caps(now, 1000);
    const capped = [[row('spend_cap.reached')]];
    const rs = await Promise.all(Array.from({ length: 40 }, () => s().charge(a, charge(now, 100, { caps: c, events: { capped } }), now)));
    expect(rs.filter((r) => r.ok)).toHaveLength(10);
    expect(rs.filter((r) => !r.ok && 'cap' in r && r.cap === 0)).toHaveLength(30);
    expect(await s().balance(a, now)).toBe(99_000);
    expect(await mine(a)).toHaveLength(1);
  });

  it('events: done rows when a post, a put take effect (with the balance after); low once per crossing', async () => {
    const a = acct();
    const now = Date.now();
    const granted = row('credits.granted');
    expect(await s().post(a, { amount: 1000, kind: 'grant', reference: 'r1', events: { done: [granted] } }, now)).toMatchObject({ ok: true });
    // A refused post (duplicate reference) writes nothing.
    expect(await s().post(a, { amount: 1000, kind: 'grant', reference: 'r1', events: { done: [row('credits.granted')] } }, now)).toMatchObject({ ok: false });
    const low = (n: string) => ({ below: 500, rows: [row('balance.low', `evt_low${n}_${uid()}`)] });
    const l1 = low('1');
    expect(await s().charge(a, charge(now, 400, { events: { low: low('0') } }), now)).toMatchObject({ ok: true, balance: 600 });
    expect(await s().charge(a, charge(now, 200, { events: { low: l1 } }), now)).toMatchObject({ ok: true, balance: 400 });
    expect(await s().charge(a, charge(now, 100, { events: { low: low('2') } }), now)).toMatchObject({ ok: true, balance: 300 });
    await s().post(a, { amount: 700, kind: 'grant' }, now);
    const l3 = low('3');
    expect(await s().hold(a, { holdId: `h_${uid()}`, amount: 600, expiresAt: now + HOUR, events: { low: l3 } }, now)).toMatchObject({ ok: true, balance: 400 });
    await s().post(a, { amount: 600, kind: 'grant' }, now);
    const l4 = low('4');
    expect(await s().post(a, { amount: -600, kind: 'debit', events: { low: l4 } }, now)).toMatchObject({ ok: true, balance: 400 });
    const key = row('key.created');
    expect(await s().put(a, 'keys', 'k1', { value: new Uint8Array([1]), size: 1, tag: 't', expiresAt: null, events: { done: [key] } }, now, { absent: true })).toMatchObject({ ok: true });
    expect(await s().put(a, 'keys', 'k1', { value: new Uint8Array([1]), size: 1, tag: 't', expiresAt: null, events: { done: [row('key.created')] } }, now, { absent: true })).toMatchObject({ ok: false });
    const rows = await mine(a);
    const byId = new Map(rows.map((d) => [d.id, d]));
    expect(rows).toHaveLength(5);
    expect(byId.get(granted.id)).toMatchObject({ type: 'credits.granted', balance: 1000, account: a });
    expect(byId.get(l1.rows[0]!.id)).toMatchObject({ type: 'balance.low', balance: 400 });
    expect(byId.get(l3.rows[0]!.id)).toMatchObject({ balance: 400 });
    expect(byId.get(l4.rows[0]!.id)).toMatchObject({ balance: 400 });
    expect(byId.get(key.id)).toMatchObject({ type: 'key.created', balance: 400 });
  });

  it('outbox: claim leases each due delivery to one worker; finish, retry, get and list', async () => {
    const a = acct();
    const now = Date.now() + 10 * HOUR; // due after every other test's deliveries: theirs are claimed first
    const rows = Array.from({ length: 6 }, (_, i) => row('credits.granted', `evt_${i}_${uid()}`));
    await s().post(a, { amount: 10, kind: 'grant', events: { done: rows } }, now);
    const claimAll = async (at: number) => {
      const got = [];
      for (;;) {
        const batch = await Promise.all([s().outbox!.claim(at, at + 30_000, 50), s().outbox!.claim(at, at + 30_000, 50)]);
        const flat = batch.flat();
        got.push(...flat);
        if (flat.length === 0) return got.filter((d) => d.account === a);
      }
    };
    const claimed = await claimAll(now);
    expect(claimed.map((d) => d.id).sort()).toEqual(rows.map((r) => r.id).sort()); // each once, to one of the two
    expect(claimed.every((d) => d.attempts === 1 && d.leaseUntil === now + 30_000)).toBe(true);
    expect(await claimAll(now + 1000)).toEqual([]); // leased
    const [d0, d1, d2] = claimed;
    expect(await s().outbox!.finish(a, d0!.id, 1, { delivered: true }, now + 5)).toBe(true);
    expect(await s().outbox!.finish(a, d0!.id, 1, { delivered: true }, now + 6)).toBe(false); // not pending any more
    expect(await s().outbox!.finish(a, d1!.id, 1, { delivered: false, error: 'HTTP 500', retryAt: now + 60_000 }, now + 5)).toBe(true);
    expect(await s().outbox!.finish(a, d2!.id, 1, { delivered: false, error: 'gave up', retryAt: null }, now + 5)).toBe(true);
    expect(await s().outbox!.finish(a, d1!.id, 7, { delivered: true }, now + 5)).toBe(false); // a stale attempt
    expect(await s().outbox!.get(a, d1!.id)).toMatchObject({ status: 'pending', attempts: 1, nextAt: now + 60_000, lastError: 'HTTP 500' });
    expect(await s().outbox!.get(acct(), d1!.id)).toBeNull();
    // The lease ran out: the three unfinished come back (attempt 2); the retried one only when due.
    expect((await claimAll(now + 40_000)).map((d) => [d.id, d.attempts]).sort()).toEqual(claimed.slice(3).map((d) => [d.id, 2]).sort());
    expect((await claimAll(now + 60_000)).map((d) => [d.id, d.attempts])).toEqual([[d1!.id, 2]]);
    expect(await s().outbox!.retry(a, d2!.id, now + 62_000)).toBe(true);
    expect(await s().outbox!.retry(a, 'nope.ep1', now)).toBe(false);
    expect(await s().outbox!.get(a, d2!.id)).toMatchObject({ status: 'pending', attempts: 0, lastError: 'gave up' });
    expect((await claimAll(now + 62_000)).map((d) => d.id)).toEqual([d2!.id]);
    const delivered = (await s().outbox!.list({ status: 'delivered', limit: 1000 })).filter((d) => d.account === a);
    expect(delivered.map((d) => d.id)).toEqual([d0!.id]);
    const all = await mine(a);
    expect(all).toHaveLength(6);
    // Pages: newest first, by (createdAt, id) descending, the cursor excluded.
    const first = await s().outbox!.list({ limit: 2 });
    const cursor = `${first[1]!.createdAt}:${first[1]!.id}`;
    const next = await s().outbox!.list({ limit: 2, before: cursor });
    expect(next.every((d) => d.createdAt < first[1]!.createdAt || (d.createdAt === first[1]!.createdAt && d.id < first[1]!.id))).toBe(true);
  });
}
