// HTTP: free calls, then debits, then 402 with a payment object; quota headers; balance, ledger and admin credits.
import { expect, it } from 'vitest';
import { describeMounts, call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';

async function newAccount(m: Mounted): Promise<{ key: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  return { key: r.body.api_key as string, account: r.body.account_id as string };
}

const grant = (m: Mounted, account: string, amount: number, extra: Record<string, unknown> = {}) =>
  call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: account, amount_micro_usd: amount, reason: 'test', ...extra } });

/** Every ledger entry of the account, following next_cursor. */
async function allEntries(m: Mounted, key: string, limit = 500): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r = await call(`${m.url}/credits/ledger?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { key });
    expect(r.status).toBe(200);
    out.push(...r.body.entries);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

const store = (m: Mounted, key: string, k: string, headers?: Record<string, string>) =>
  call(`${m.url}/memory/store`, { key, body: { user_id: 'u1', key: k, data: { k } }, ...(headers ? { headers } : {}) });

const PRICING = { '/memory/store': 250, '/memory/retrieve': 100 };

describeMounts('credits: free calls, debits, 402', () => ({ freeCallsPerDay: 3, pricing: PRICING }), (m) => {
  it('spends the free calls, then debits the price, then answers 402 with a payment object', async () => {
    const { key, account } = await newAccount(m());
    expect((await grant(m(), account, 600)).status).toBe(201);
    const seen: Array<[number, string | null, string | null]> = [];
    for (let i = 1; i <= 6; i++) {
      const r = await store(m(), key, `k${i}`);
      seen.push([r.status, r.headers.get('ratelimit'), r.headers.get('x-credits-balance-micro-usd')]);
      expect(r.headers.get('ratelimit-policy')).toBe('"free";q=3;w=86400');
      expect(r.headers.get('retry-after')).toBeNull();
    }
    const t = (s: string | null) => s!.replace(/;t=\d+$/, '');
    expect(seen.map(([status, rl, bal]) => [status, t(rl), bal])).toEqual([
      [200, '"free";r=2', '600'],
      [200, '"free";r=1', '600'],
      [200, '"free";r=0', '600'],
      [200, '"free";r=0', '350'],
      [200, '"free";r=0', '100'],
      [402, '"free";r=0', '100'],
    ]);
    const secondsToMidnight = Math.ceil((Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z') + 86_400_000 - Date.now()) / 1000);
    expect(Number(/;t=(\d+)$/.exec(seen[0]![1]!)![1])).toBeGreaterThanOrEqual(secondsToMidnight - 5);
    expect(Number(/;t=(\d+)$/.exec(seen[0]![1]!)![1])).toBeLessThanOrEqual(secondsToMidnight + 5);

    const refused = await store(m(), key, 'k7');
    expect(refused.status).toBe(402);
    expect(refused.body.status).toBe('error');
    expect(refused.body.error.code).toBe('payment_required');
    expect(refused.body.payment).toMatchObject({
      currency: 'USD', price_micro_usd: 250, price_usd: '0.000250', balance_micro_usd: 100, balance_usd: '0.000100',
      shortfall_micro_usd: 150, free_calls_per_day: 3, free_calls_remaining: 0,
      // No payments on this server: the 402 names no purchase route, only the balance and the operator.
      buy: { balance: { method: 'GET', path: '/credits/balance' }, online_purchase: false },
    });
    expect(refused.body.payment.buy).not.toHaveProperty('instructions');
    expect(refused.body.error.message).toMatch(/Ask this server's operator for credits or wait for tomorrow's free calls\.$/);
    expect(refused.body.error.message).not.toMatch(/buy credits/i);
    expect(Date.parse(refused.body.payment.free_calls_reset_at)).toBeGreaterThan(Date.now());
    // A cheaper endpoint is still affordable: retrieve costs 100, exactly what is left.
    const got = await call(`${m().url}/memory/retrieve?user_id=u1&key=k5`, { key });
    expect(got.status).toBe(200);
    expect(got.headers.get('x-credits-balance-micro-usd')).toBe('0');
    expect((await call(`${m().url}/memory/retrieve?user_id=u1&key=k5`, { key })).status).toBe(402);
    // Nothing unpaid was stored.
    expect(await m().ai.api.memory.get(account, 'u1', 'k6', Date.now())).toBeNull();
    expect(await m().ai.api.memory.get(account, 'u1', 'k7', Date.now())).toBeNull();
    expect((await m().ai.api.memory.list(account, 'u1', { limit: 100 }, Date.now())).map((r) => r.key)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);

    const entries = await allEntries(m(), key);
    expect(entries.map((e) => [e.kind, e.amount_micro_usd, e.balance_after])).toEqual([
      ['debit', -100, 0], ['debit', -250, 100], ['debit', -250, 350], ['grant', 600, 600],
    ]);
    expect(entries.reduce((sum, e) => sum + e.amount_micro_usd, 0)).toBe(0);
  });

  it('answers the balance with free calls left today and their reset time; balance_usd is exact', async () => {
    const { key, account } = await newAccount(m());
    await grant(m(), account, 1_250_000);
    await store(m(), key, 'a');
    const r = await call(`${m().url}/credits/balance`, { key });
    expect(r.status).toBe(200);
    const midnight = new Date(Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z') + 86_400_000).toISOString();
    expect(r.body).toEqual({
      status: 'success', account_id: account, balance_micro_usd: 1_250_000, balance_usd: '1.250000',
      free_calls_remaining: 2, free_calls_per_day: 3, free_calls_reset_at: midnight,
    });
    expect(await m().ai.api.ledger.balance(account)).toMatchObject({ balanceMicroUsd: 1_250_000, freeCallsRemaining: 2 });
  });

  it('does not count or charge free endpoints, nor requests refused as invalid', async () => {
    const { key } = await newAccount(m());
    for (let i = 0; i < 4; i++) {
      expect((await call(`${m().url}/credits/balance`, { key })).status).toBe(200);
      expect((await call(`${m().url}/credits/ledger`, { key })).status).toBe(200);
      expect((await call(`${m().url}/memory/user?user_id=u1`, { key, method: 'DELETE' })).status).toBe(200);
      expect((await call(`${m().url}/memory/store`, { key, body: { user_id: 'u1', data: 1 } })).status).toBe(400);
      expect((await call(`${m().url}/memory/retrieve?user_id=u1`, { key })).status).toBe(400);
    }
    const free = await call(`${m().url}/credits/balance`, { key });
    expect(free.headers.get('ratelimit')).toBeNull();
    expect(free.body).toMatchObject({ free_calls_remaining: 3, balance_micro_usd: 0 });
    expect((await call(`${m().url}/credits/ledger`, { key })).body).toEqual({ status: 'success', account_id: expect.any(String), entries: [], next_cursor: null });
  });

  it('pages the ledger newest first with an opaque cursor; amounts always sum to the balance', async () => {
    const { key, account } = await newAccount(m());
    for (let i = 1; i <= 10; i++) await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: i * 1000, reason: `grant ${i}` });
    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const r = await call(`${m().url}/credits/ledger?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key });
      expect(r.status).toBe(200);
      pages.push(r.body.entries);
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    const entries = pages.flat();
    expect(entries.map((e) => e.memo)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((i) => `grant ${i}`));
    expect(new Set(entries.map((e) => e.id)).size).toBe(10);
    expect(entries[0]).toEqual({
      id: expect.stringMatching(/^le_[a-z2-7]{16}_10$/), account_id: account, amount_micro_usd: 10_000, kind: 'grant',
      reference: null, memo: 'grant 10', created_at: expect.stringMatching(/Z$/), balance_after: 55_000,
    });
    const balance = (await call(`${m().url}/credits/balance`, { key })).body.balance_micro_usd;
    expect(entries.reduce((s, e) => s + e.amount_micro_usd, 0)).toBe(balance);
    expect((await call(`${m().url}/credits/ledger?cursor=nope`, { key })).status).toBe(400);
    expect((await call(`${m().url}/credits/ledger?limit=0`, { key })).status).toBe(400);
    expect((await call(`${m().url}/credits/ledger?limit=501`, { key })).status).toBe(400);
  });

  it('grants credit through POST /admin/credits, idempotently with a reference, and refuses bad input', async () => {
    const { key, account } = await newAccount(m());
    const first = await grant(m(), account, 5_000_000, { reference: 'welcome' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      status: 'success', account_id: account, granted: true, balance_micro_usd: 5_000_000, balance_usd: '5.000000',
      entry: { kind: 'grant', amount_micro_usd: 5_000_000, reference: 'grant:welcome', memo: 'test', balance_after: 5_000_000 },
    });
    const again = await grant(m(), account, 5_000_000, { reference: 'welcome' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ granted: false, duplicate: true, balance_micro_usd: 5_000_000 });
    expect(await m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1, reason: 'x', reference: 'welcome' })).toMatchObject({ granted: false });
    expect((await call(`${m().url}/credits/balance`, { key })).body.balance_micro_usd).toBe(5_000_000);

    expect((await grant(m(), 'acct_aaaaaaaaaaaaaaaa', 100)).status).toBe(404);
    for (const bad of [1.5, '100', -5, 0, 1e13]) {
      const r = await grant(m(), account, bad as number);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/amount_micro_usd/);
    }
    expect((await call(`${m().url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: account, amount_micro_usd: 5 } })).body.error.message).toMatch(/reason/);
    expect((await call(`${m().url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: 'bob', amount_micro_usd: 5, reason: 'r' } })).status).toBe(400);
    expect((await call(`${m().url}/admin/credits`, { key, body: { account_id: account, amount_micro_usd: 5, reason: 'r' } })).status).toBe(401);
    await expect(m().ai.api.ledger.grant({ accountId: account, amountMicroUsd: 0.5, reason: 'x' })).rejects.toThrow(/amount_micro_usd/);
  });
});
