// HTTP: GET /admin/usage through the mounted middleware: metered calls, a grant, a refunded (500) call and a paid Claude call are
// counted per account and over all accounts, by hour and by day, on stores that refund by void and by plain operations; bad input is a precise 400.
import { randomUUID } from 'node:crypto';
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AipaygentOptions } from '../../src/config.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { openStore } from '../../src/storage/open.js';
import { redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { faultyStore, newFaults, type Faults } from '../support/faulty-store.js';
import { ADMIN_TOKEN, call, describeMounts, startMount, type Mounted } from '../support/mounts.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hourStart = (ms: number) => ms - (ms % HOUR);
const dayStart = (ms: number) => ms - (ms % DAY);

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake?.close();
});

const admin = (m: Mounted, path: string) => call(`${m.url}${path}`, { key: ADMIN_TOKEN });

async function newAccount(m: Mounted): Promise<{ key: string; account: string; keyId: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  return { key: r.body.api_key, account: r.body.account_id, keyId: r.body.key_id };
}

const zero = { calls: 0, free_calls: 0, paid_calls: 0, refunded_calls: 0, spent_micro_usd: 0, refunded_micro_usd: 0, credited_micro_usd: 0, claude_tokens: {} };
const usd = (micro: number) => (micro / 1e6).toFixed(6);

/** The backends of the scenario: the in-memory store gives calls back with incr/post, the others void the charge by id. */
const BACKENDS: Record<string, () => Promise<{ store: Store; cleanup(): Promise<void> } | null>> = {
  memory: async () => ({ store: new MemoryStore(), cleanup: async () => {} }),
  keyv: async () => ({ store: new KeyvStore(new Keyv({ throwOnErrors: true })), cleanup: async () => {} }),
  redis: async () => {
    const url = await redisUrlOrSkip();
    if (!url) return null;
    const prefix = `apgusage_${randomUUID().slice(0, 8)}:`;
    return { store: await openStore(url, { timeoutMs: 5000, prefix }), cleanup: () => dropPrefix(url, prefix) };
  },
};

for (const [name, open] of Object.entries(BACKENDS)) {
  const backend = await open();
  (backend ? describe : describe.skip)(`GET /admin/usage counts what the money did [express5 on ${name}]`, () => {
    let m: Mounted;
    const faults: Faults = newFaults();
    beforeAll(async () => {
      const options: AipaygentOptions = {
        store: faultyStore(faults, backend!.store), freeCallsPerDay: 2, pricing: { '/memory/retrieve': 100, '/memory/store': 250 },
        claude: { apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 }, logger: { warn: () => {}, error: () => {} },
      };
      m = await startMount('express5', { parsed: true, prefix: '/ai', options });
    });
    afterAll(async () => {
      await m?.close();
      await backend?.cleanup();
    });

    it('per account and over all accounts, by hour and by day, with the key last used', async () => {
      const a = await newAccount(m);
      const b = await newAccount(m);
      const t0 = Date.now();
      expect((await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: a.account, amount_micro_usd: 5_000_000, reason: 'test' } })).status).toBe(201);
      const store = (key: string, k: string) => call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: k, data: { k } } });
      const retrieve = (key: string) => call(`${m.url}/memory/retrieve?user_id=u&key=k1`, { key });
      expect((await store(a.key, 'k1')).status).toBe(200); // free
      faults.failMemoryGets = 1;
      expect((await retrieve(a.key)).status).toBe(500); // free, given back
      expect((await store(a.key, 'k2')).status).toBe(200); // free (the one given back)
      expect((await retrieve(a.key)).status).toBe(200); // paid 100
      faults.failMemoryGets = 1;
      expect((await retrieve(a.key)).status).toBe(500); // paid 100, given back
      const claude = await call(`${m.url}/claude/message`, { key: a.key, body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] } });
      expect(claude.status).toBe(200);
      const claudeCost = Number(claude.headers.get('x-cost-micro-usd'));
      expect(claudeCost).toBeGreaterThan(0);
      expect((await store(b.key, 'k1')).status).toBe(200); // free
      // Refused for lack of money: not a call, nothing spent (but the key was used).
      for (let i = 0; i < 2; i++) await store(b.key, `more${i}`);
      expect((await store(b.key, 'refused')).status).toBe(402);
      const t1 = Date.now();

      const forA = {
        calls: 6, free_calls: 3, paid_calls: 3, refunded_calls: 2, spent_micro_usd: 200 + claudeCost, refunded_micro_usd: 100, credited_micro_usd: 5_000_000,
        claude_tokens: { 'claude-sonnet-4-5': { input: 25, output: 7, cache_read: 0, cache_write: 0 } },
      };
      const forB = { ...zero, calls: 2, free_calls: 2 };
      const balance = (await m.ai.api.ledger.balance(a.account)).balanceMicroUsd;
      expect(5_000_000 - forA.spent_micro_usd + forA.refunded_micro_usd).toBe(balance);

      const hourly = await admin(m, `/admin/usage?account_id=${a.account}`);
      expect(hourly.status).toBe(200);
      expect(hourly.body).toMatchObject({ status: 'success', account_id: a.account, bucket: 'hour' });
      expect(hourly.body.buckets).toHaveLength(24);
      expect(Date.parse(hourly.body.to)).toBe(hourStart(Date.now()) + HOUR);
      expect(Date.parse(hourly.body.from)).toBe(hourStart(Date.now()) - 23 * HOUR);
      expect(hourly.body.buckets.map((x: { start: string }) => Date.parse(x.start))).toEqual(Array.from({ length: 24 }, (_, i) => Date.parse(hourly.body.from) + i * HOUR));
      expect(hourly.body.totals).toEqual({ ...forA, spent_usd: usd(forA.spent_micro_usd), refunded_usd: '0.000100', credited_usd: '5.000000' });
      // Everything happened in the last hour or two (a run across an hour boundary splits it; the sum is the same).
      const busy = hourly.body.buckets.filter((x: { calls: number; credited_micro_usd: number }) => x.calls > 0 || x.credited_micro_usd > 0);
      expect(busy.map((x: { start: string }) => Date.parse(x.start))).toEqual([...new Set([hourStart(t0), hourStart(t1)])].slice(-busy.length));
      if (hourStart(t0) === hourStart(t1)) expect(busy[0]).toEqual({ start: new Date(hourStart(t0)).toISOString(), ...forA });

      const daily = await admin(m, `/admin/usage?account_id=${a.account}&bucket=day`);
      expect(daily.status).toBe(200);
      expect(daily.body.buckets).toHaveLength(30);
      expect(Date.parse(daily.body.to)).toBe(dayStart(Date.now()) + DAY);
      expect(daily.body.totals).toMatchObject(forA);
      const justB = await admin(m, `/admin/usage?account_id=${b.account}&bucket=day&from=${new Date(t0).toISOString()}&to=${new Date(t1).toISOString()}`);
      expect(justB.body.totals).toMatchObject(forB);
      expect(justB.body.buckets.length).toBe(dayStart(t1) === dayStart(t0) ? 1 : 2);

      // All accounts: the sum of these two (the only ones of this server).
      const all = await admin(m, '/admin/usage?bucket=day&from=' + new Date(t0 - DAY).toISOString().slice(0, 10));
      expect(all.status).toBe(200);
      expect(all.body.account_id).toBeNull();
      expect(all.body.buckets).toHaveLength(dayStart(Date.now()) === dayStart(t0) ? 2 : 3);
      const sum = { ...forA, calls: forA.calls + forB.calls, free_calls: forA.free_calls + forB.free_calls };
      expect(all.body.totals).toMatchObject(sum);
      expect((await admin(m, '/admin/usage')).body.totals).toMatchObject(sum);

      // Each key's last use, from the same charges.
      const used = await m.ai.api.usage.lastUsed(a.account);
      expect(Object.keys(used)).toEqual([a.keyId]);
      expect(used[a.keyId]).toBeGreaterThanOrEqual(t0);
      expect(used[a.keyId]).toBeLessThanOrEqual(t1);
      expect(Object.keys(await m.ai.api.usage.lastUsed(b.account))).toEqual([b.keyId]);
    });
  });
}

describeMounts('GET /admin/usage refuses bad input precisely', () => ({}), (m) => {
  it('names the parameter and the limit at fault', async () => {
    const { account } = await newAccount(m());
    const bad = async (query: string, status: number, message: string | RegExp) => {
      const r = await admin(m(), `/admin/usage?${query}`);
      expect(r.status, query).toBe(status);
      expect(r.body.status).toBe('error');
      if (typeof message === 'string') expect(r.body.error.message, query).toBe(message);
      else expect(r.body.error.message, query).toMatch(message);
    };
    const iso = 'must be an ISO 8601 date (2026-12-06, UTC midnight) or date-time with its offset (2026-12-06T13:00:00Z)';
    await bad('bucket=week', 400, 'bucket must be hour or day');
    await bad('from=yesterday', 400, `from ${iso}`);
    await bad('to=2026-02-30', 400, `to ${iso}`);
    await bad('from=2026-12-06T13:00:00', 400, `from ${iso}`);
    await bad('from=2026-12-06T25:00:00Z', 400, `from ${iso}`);
    await bad('from=2026-12-07&to=2026-12-06', 400, 'from (2026-12-07T00:00:00.000Z) must not be after to (2026-12-06T00:00:00.000Z)');
    await bad('from=2026-01-01&to=2026-02-01T00:00:00Z', 400, 'from..to spans 745 hour buckets; at most 744 per request (31 days): ask for bucket=day, or a shorter span');
    await bad('bucket=day&from=2025-01-01&to=2026-02-05', 400, 'from..to spans 401 day buckets; at most 400 per request: ask for a shorter span');
    await bad('account_id=bob', 400, 'account_id is not an account id (acct_…)');
    await bad('from=2026-12-01&from=2026-12-02', 400, /"from" is given more than once/);
    await bad(`account_id=acct_${'a'.repeat(16)}`, 404, /^No account "acct_a+" \(it has no API keys\)$/);
    // At the limits: 744 hours and 400 days are served.
    expect((await admin(m(), '/admin/usage?from=2026-01-01&to=2026-01-31T23:59:59.999Z')).body.buckets).toHaveLength(744);
    expect((await admin(m(), '/admin/usage?bucket=day&from=2025-01-01&to=2026-02-04T12:00:00%2B01:00')).body.buckets).toHaveLength(400);
    expect((await admin(m(), `/admin/usage?account_id=${account}&from=2026-12-06T13:30:00%2B02:00&to=2026-12-06T11:59:59Z`)).body).toMatchObject({
      from: '2026-12-06T11:00:00.000Z', to: '2026-12-06T12:00:00.000Z', buckets: [{ start: '2026-12-06T11:00:00.000Z', ...zero }], totals: zero,
    });
    expect((await call(`${m().url}/admin/usage`)).status).toBe(401);
    expect((await call(`${m().url}/admin/usage`, { key: 'not-the-admin-token-000' })).status).toBe(401);
  });
});

describe('GET /admin/usage when usage is not counted', () => {
  it('usage: false answers 404 naming the option, and calls are served as before', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { usage: false } });
    try {
      const r = await admin(m, '/admin/usage');
      expect(r.status).toBe(404);
      expect(r.body.error.message).toMatch(/^Usage counting is not enabled on this server; its operator turns it on with the usage option/);
      const { key } = await newAccount(m);
      expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: 1 } })).status).toBe(200);
      expect(m.ai.routes.some((x) => x.path === '/admin/usage')).toBe(false);
    } finally {
      await m.close();
    }
  });

  it('a Store that does not count usage (written before it existed) still serves and charges; the route says why it has nothing', async () => {
    const inner = new MemoryStore();
    // What an older Store looks like: no StoreInfo.usage, no usage reads; whatever `usage` it is given, it ignores.
    const old = new Proxy(inner, {
      get: (t, p) => (p === 'info' ? { backend: 'memory', multiProcess: false, chargeAuth: true, inProcess: true } : p === 'usage' || p === 'lastUsed' ? undefined : Reflect.get(t, p)),
    }) as Store;
    const m = await startMount('core', { parsed: false, prefix: '', options: { store: old, freeCallsPerDay: 1 } });
    try {
      const { key, account } = await newAccount(m);
      await m.ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1000, reason: 'test' });
      for (let i = 0; i < 3; i++) expect((await call(`${m.url}/memory/store`, { key, body: { user_id: 'u', key: `k${i}`, data: 1 } })).status).toBe(200);
      expect((await m.ai.api.ledger.balance(account)).balanceMicroUsd).toBe(800);
      const r = await admin(m, '/admin/usage');
      expect(r.status).toBe(404);
      expect(r.body.error.message).toBe('Usage is not counted on this server: its store does not count usage (a Store without StoreInfo.usage).');
      expect(await m.ai.api.usage.lastUsed(account)).toEqual({});
      // Nothing was written for usage: no activity index either.
      expect(await inner.list('_registry', `active:${new Date().toISOString().slice(0, 10)}`, { limit: 10 }, Date.now())).toEqual([]);
    } finally {
      await m.close();
    }
  });
});
