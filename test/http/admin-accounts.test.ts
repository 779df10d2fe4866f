// HTTP: GET /admin/accounts (creation order, cursor pages, created filters) and GET /admin/accounts/:account_id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { ADMIN_TOKEN, call, describeBackends, startMount, type Mounted, type MountKind } from '../support/mounts.js';

const MOUNTS: Array<{ kind: MountKind; parsed: boolean; prefix: string }> = [
  { kind: 'koa3', parsed: true, prefix: '/ai' },
  { kind: 'core', parsed: false, prefix: '' },
];

for (const spec of MOUNTS) {
  describe(`admin accounts [${spec.kind}${spec.prefix ? ` under ${spec.prefix}` : ''}]`, () => {
    let m: Mounted;
    // Five accounts A..E, created in that order (a few ms apart), each with its first key.
    const made: Array<{ api_key: string; key_id: string; account_id: string; created_at: string }> = [];
    const admin = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${m.url}${path}`, { key: ADMIN_TOKEN, ...init });
    const ids = (r: { body: any }) => (r.body.accounts as any[]).map((a) => a.account_id);
    const id = (i: number) => made[i]!.account_id;

    beforeAll(async () => {
      // A store of its own: the registry lists every account of the store.
      m = await startMount(spec.kind, { parsed: spec.parsed, prefix: spec.prefix, options: { store: new MemoryStore(), freeCallsPerDay: 1 } });
      for (let i = 0; i < 5; i++) {
        made.push((await admin('/admin/keys', { body: { label: `k${i}` } })).body);
        await new Promise((r) => setTimeout(r, 3));
      }
    });
    afterAll(async () => {
      await m?.close();
    });

    it('lists accounts oldest first with balance and key counts; cursor pages cover them once', async () => {
      const second = (await admin('/admin/keys', { body: { account_id: id(0) } })).body;
      await admin(`/admin/keys/${second.key_id}`, { method: 'DELETE' });
      await admin('/admin/credits', { body: { account_id: id(1), amount_micro_usd: 5000, reason: 'welcome' } });
      const all = await admin('/admin/accounts');
      expect(all.status).toBe(200);
      expect(ids(all)).toEqual(made.map((k) => k.account_id));
      expect(all.body.next_cursor).toBeNull();
      expect(all.body.accounts[0]).toEqual({
        account_id: id(0), created_at: made[0]!.created_at, balance_micro_usd: 0, balance_usd: '0.000000', keys_active: 1, keys_total: 2, calls_today: 0, spent_today_micro_usd: 0,
      });
      expect(all.body.accounts[1]).toMatchObject({ balance_micro_usd: 5000, balance_usd: '0.005000', keys_active: 1, keys_total: 1 });

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: any = await admin(`/admin/accounts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        pages.push(ids(page));
        cursor = page.body.next_cursor;
      } while (cursor && pages.length < 10);
      expect(pages).toEqual([[id(0), id(1)], [id(2), id(3)], [id(4)]]);
    });

    it('created_from (inclusive) and created_to (exclusive) keep the accounts created in that time, paged too', async () => {
      const at = (i: number) => encodeURIComponent(made[i]!.created_at);
      expect(ids(await admin(`/admin/accounts?created_from=${at(2)}`))).toEqual([id(2), id(3), id(4)]);
      expect(ids(await admin(`/admin/accounts?created_to=${at(2)}`))).toEqual([id(0), id(1)]);
      const first = await admin(`/admin/accounts?created_from=${at(1)}&created_to=${at(3)}&limit=1`);
      expect(ids(first)).toEqual([id(1)]);
      const rest = await admin(`/admin/accounts?created_from=${at(1)}&created_to=${at(3)}&limit=1&cursor=${first.body.next_cursor}`);
      expect(ids(rest)).toEqual([id(2)]);
      expect(rest.body.next_cursor).toBeNull();
      expect(ids(await admin(`/admin/accounts?created_from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))).toEqual([]);
      for (const q of ['limit=0', 'limit=201', 'cursor=bm9wZQ', 'created_from=yesterday', 'created_to=2026-13-01T00:00:00Z']) {
        const r = await admin(`/admin/accounts?${q}`);
        expect(r.status, q).toBe(400);
        expect(r.body.error.message, q).toMatch(/limit|cursor|created_from|created_to/);
      }
    });

    it('one account: balance, keys, the last 20 ledger entries as /credits/ledger shows them, wallets', async () => {
      const k = made[3]!;
      for (let i = 0; i < 22; i++) await admin('/admin/credits', { body: { account_id: k.account_id, amount_micro_usd: 1000, reason: `g${i}` } });
      await call(`${m.url}/memory/list?user_id=u`, { key: k.api_key }); // the free call
      await call(`${m.url}/memory/list?user_id=u`, { key: k.api_key }); // a debit
      const r = await admin(`/admin/accounts/${k.account_id}`);
      expect(r.status).toBe(200);
      const ledger = (await call(`${m.url}/credits/ledger?limit=20`, { key: k.api_key })).body.entries;
      expect(r.body).toEqual({
        status: 'success', account_id: k.account_id, created_at: k.created_at, balance_micro_usd: 21_900, balance_usd: '0.021900',
        keys: (await admin(`/admin/keys?account_id=${k.account_id}`)).body.keys, ledger, wallets: [],
        usage_today: { calls: 2, free_calls: 1, paid_calls: 1, refunded_calls: 0, spent_micro_usd: 100, refunded_micro_usd: 0, credited_micro_usd: 22_000, claude_tokens: {} },
      });
      // The key that made the calls shows its last use (to the minute); the account's other keys none.
      const used = r.body.keys.find((x: { key_id: string }) => x.key_id === k.key_id);
      expect(Date.now() - Date.parse(used.last_used_at)).toBeLessThan(120_000);
      const page = await admin('/admin/accounts?limit=200');
      expect(page.body.accounts.find((a: { account_id: string }) => a.account_id === k.account_id)).toMatchObject({ calls_today: 2, spent_today_micro_usd: 100 });
      expect(r.body.ledger).toHaveLength(20);
      expect(r.body.ledger[0].kind).toBe('debit');
      expect((await admin('/admin/accounts/acct_aaaaaaaaaaaaaaaa')).status).toBe(404);
      expect((await admin('/admin/accounts/nope')).status).toBe(404);
      expect((await call(`${m.url}/admin/accounts/${k.account_id}`, { key: k.api_key })).status).toBe(401);
    });

    it('active_from / active_to keep the accounts with usage on those UTC days, paged with a cursor; spans are checked', async () => {
      const today = new Date().toISOString().slice(0, 10);
      // The activity index is written off the call's path: wait for it.
      let active: string[] = [];
      for (let i = 0; i < 100 && !active.includes(id(3)); i++) {
        active = ids(await admin(`/admin/accounts?active_from=${today}T00:00:00Z`));
        if (!active.includes(id(3))) await new Promise((r) => setTimeout(r, 20));
      }
      expect(active).toContain(id(3)); // its calls and grants of the test above
      expect(active).not.toContain(id(2)); // nothing ever happened to these two
      expect(active).not.toContain(id(4));
      expect(active).toEqual(made.map((k) => k.account_id).filter((a) => active.includes(a))); // creation order
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { body: any } = await admin(`/admin/accounts?active_from=${today}T00:00:00Z&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...ids(r));
        cursor = r.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(active);
      expect(ids(await admin('/admin/accounts?active_from=2020-01-01T00:00:00Z&active_to=2020-01-31T00:00:00Z'))).toEqual([]);
      for (const q of ['active_from=2026-12-05T00:00:00Z&active_to=2026-12-01T00:00:00Z', 'active_from=2020-01-01T00:00:00Z&active_to=2026-01-01T00:00:00Z', 'active_from=today']) {
        const r = await admin(`/admin/accounts?${q}`);
        expect(r.status, q).toBe(400);
        expect(r.body.error.message, q).toMatch(/active_from|active_to/);
      }
    });
  });
}

/** 20 keys made at once for one account, expiring soon: once their records are gone, only the catalog can list them. */
async function concurrentKeys(m: Mounted, create: (accountId: string, expiresAt: number) => Promise<string>): Promise<void> {
  const first = (await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} })).body;
  const expiresAt = Date.now() + 4000; // room for 20 creations on a loaded machine: a key must still be in the future when its request arrives
  const made = await Promise.all(Array.from({ length: 20 }, () => create(first.account_id, expiresAt)));
  await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 50));
  const keys = (await call(`${m.url}/admin/keys?account_id=${first.account_id}`, { key: ADMIN_TOKEN })).body.keys as any[];
  expect(keys).toHaveLength(21);
  expect(keys.filter((k) => k.status === 'expired').map((k) => k.key_id).sort()).toEqual([...made].sort());
  const summary = (await call(`${m.url}/admin/accounts?limit=200`, { key: ADMIN_TOKEN })).body.accounts.find((a: any) => a.account_id === first.account_id);
  expect(summary).toMatchObject({ keys_active: 1, keys_total: 21 });
}

await describeBackends('the key catalog under concurrency', (m) => {
  it('keys created at once over HTTP for one account are all in its catalog (listed after their records expired)', async () => {
    await concurrentKeys(m(), async (accountId, expiresAt) => {
      const r = await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: { account_id: accountId, expires_at: new Date(expiresAt).toISOString() } });
      expect(r.status).toBe(201);
      return r.body.key_id as string;
    });
  });
});

it('keys created at once in process (the memory store) are all in the catalog too', async () => {
  const m = await startMount('core', { parsed: false, prefix: '', options: {} });
  try {
    await concurrentKeys(m, async (accountId, expiresAt) => (await m.ai.api.keys.create({ accountId, expiresAt })).key_id);
  } finally {
    await m.close();
  }
});
