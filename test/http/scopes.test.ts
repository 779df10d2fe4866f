// HTTP: scoped keys (403 forbidden naming the missing scope, nothing taken), full-scope and legacy keys unchanged, key expiry.
import { expect, it } from 'vitest';
import { hashSecret, newAccountId, newApiKey, newKeyId } from '../../src/keys/api-key.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { ADMIN_TOKEN, call, describeMounts, startMount, type Mounted } from '../support/mounts.js';

const ALL = ['claude', 'memory:read', 'memory:write', 'payments'];
const storeBody = { user_id: 'u1', key: 'k', data: { v: 1 } };

async function createKey(m: Mounted, body: Record<string, unknown>) {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body });
  expect(r.status, r.text).toBe(201);
  return r.body as { api_key: string; key_id: string; account_id: string; scopes: string[]; prefix: string; expires_at: string | null; label: string };
}

const expectForbidden = (r: { status: number; body: any }, scope: string) => {
  expect(r.status).toBe(403);
  expect(r.body.status).toBe('error');
  expect(r.body.error.code).toBe('forbidden');
  expect(r.body.error.message).toContain(`"${scope}"`);
};

let store = new MemoryStore();

describeMounts('scoped keys', () => {
  store = new MemoryStore();
  return { store, freeCallsPerDay: 5 };
}, (m) => {
  it('a key without the scope is 403 naming it (metered or not, nothing taken); with it, 200; a full key calls everything', async () => {
    const full = await createKey(m(), { label: 'full' });
    expect(full.scopes).toEqual(ALL);
    expect(full.prefix).toBe(full.api_key.slice(0, 28));
    expect(full.api_key.slice(28)).toMatch(/^_[A-Za-z0-9]{40}$/); // the prefix ends where the secret starts
    const reader = await createKey(m(), { account_id: full.account_id, scopes: ['memory:read'], label: 'reader' });
    const writer = await createKey(m(), { account_id: full.account_id, scopes: ['memory:write', 'claude'] });
    expect(writer.scopes).toEqual(['claude', 'memory:write']);
    const url = m().url;
    const free = async () => (await call(`${url}/credits/balance`, { key: full.api_key })).body.free_calls_remaining as number;

    expect((await call(`${url}/memory/store`, { key: writer.api_key, body: storeBody })).status).toBe(200);
    expect((await call(`${url}/memory/retrieve?user_id=u1&key=k`, { key: reader.api_key })).status).toBe(200);
    const left = await free();
    expectForbidden(await call(`${url}/memory/store`, { key: reader.api_key, body: storeBody }), 'memory:write');
    expectForbidden(await call(`${url}/memory/retrieve?user_id=u1&key=k`, { key: writer.api_key }), 'memory:read');
    expectForbidden(await call(`${url}/memory/search?user_id=u1&q=v`, { key: writer.api_key }), 'memory:read');
    expectForbidden(await call(`${url}/memory/delete?user_id=u1&key=k`, { key: reader.api_key, method: 'DELETE' }), 'memory:write');
    // Unmetered routes check the scope on the key they read.
    expectForbidden(await call(`${url}/memory/user?user_id=u1`, { key: reader.api_key, method: 'DELETE' }), 'memory:write');
    expect(await free()).toBe(left); // a refused call takes no free call
    expect((await call(`${url}/memory/retrieve?user_id=u1&key=k`, { key: reader.api_key })).body.data).toEqual({ v: 1 });
    // Routes without a scope are open to every valid key.
    expect((await call(`${url}/credits/balance`, { key: reader.api_key })).status).toBe(200);
    expect((await call(`${url}/credits/ledger`, { key: writer.api_key })).status).toBe(200);
    // The full key: everything, as before scopes existed.
    expect((await call(`${url}/memory/store`, { key: full.api_key, body: storeBody })).status).toBe(200);
    expect((await call(`${url}/memory/retrieve?user_id=u1&key=k`, { key: full.api_key })).status).toBe(200);
    expect((await call(`${url}/memory/user?user_id=u1`, { key: full.api_key, method: 'DELETE' })).status).toBe(200);
    // A bad key stays a 401, never a 403: the scope is told only to a key that proved itself.
    const forged = reader.api_key.slice(0, -4) + (reader.api_key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await call(`${url}/memory/store`, { key: forged, body: storeBody })).status).toBe(401);
    expect((await call(`${url}/memory/user?user_id=u1`, { key: forged, method: 'DELETE' })).status).toBe(401);
    expect((await call(`${url}/admin/keys/${reader.key_id}`, { key: ADMIN_TOKEN, method: 'DELETE' })).status).toBe(200);
    expect((await call(`${url}/memory/store`, { key: reader.api_key, body: storeBody })).status).toBe(401);
    expect((await call(`${url}/memory/retrieve?user_id=u1&key=k`, { key: reader.api_key })).status).toBe(401);
  });

  it('with an Idempotency-Key (the key is read before the charge) a missing scope is the same 403', async () => {
    const reader = await createKey(m(), { scopes: ['memory:read'] });
    const r = await call(`${m().url}/memory/store`, { key: reader.api_key, body: storeBody, headers: { 'idempotency-key': 'idem-1' } });
    expectForbidden(r, 'memory:write');
  });

  it('keys created with every scope listed are full keys; bad scopes and expiries are 400 naming the field', async () => {
    const all = await createKey(m(), { scopes: [...ALL].reverse() });
    expect(all.scopes).toEqual(ALL);
    expect((await call(`${m().url}/memory/store`, { key: all.api_key, body: storeBody })).status).toBe(200);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ scopes: [] }, /scopes must not be empty/],
      [{ scopes: ['memory:read', 'memory:read'] }, /scopes must not repeat/],
      [{ scopes: ['admin'] }, /each scope must be one of claude, memory:read, memory:write, payments/],
      [{ scopes: 'claude' }, /scopes must be an array/],
      [{ expires_at: '2020-01-01T00:00:00Z' }, /expires_at must be in the future/],
      [{ expires_at: 'tomorrow' }, /expires_at must be an ISO 8601 date-time/],
    ];
    for (const [body, message] of bad) {
      const r = await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
  });

  it('a key record written before scopes and metadata (hash || label) keeps full access, is listed, and its account adopted', async () => {
    const account = newAccountId();
    const keyId = newKeyId(account);
    const apiKey = newApiKey(keyId);
    const value = Buffer.concat([hashSecret(apiKey), Buffer.from('old laptop', 'utf8')]);
    const writtenAt = Date.now() - 5000;
    await store.put(account, 'keys', keyId, { value, size: value.length, tag: 'active', expiresAt: null }, writtenAt);
    expect((await call(`${m().url}/memory/store`, { key: apiKey, body: storeBody })).status).toBe(200);
    expect((await call(`${m().url}/memory/user?user_id=u1`, { key: apiKey, method: 'DELETE' })).status).toBe(200);
    const before = Date.now();
    const listed = await call(`${m().url}/admin/keys?account_id=${account}`, { key: ADMIN_TOKEN });
    // Its metered call above is its last use (kept to the minute by the usage counters).
    expect(before - Date.parse(listed.body.keys[0].last_used_at)).toBeLessThan(120_000);
    expect(listed.body.keys).toEqual([{
      key_id: keyId, label: 'old laptop', prefix: apiKey.slice(0, 28), status: 'active', created_at: new Date(writtenAt).toISOString(), last_used_at: listed.body.keys[0].last_used_at,
      expires_at: null, revoked_at: null, scopes: ALL, rotated_from: null, rotated_to: null, daily_spend_cap_micro_usd: null, monthly_spend_cap_micro_usd: null,
    }]);
    // Not in the registry until a key is created for it; then listed, dated by its oldest key.
    const inRegistry = async () => ((await call(`${m().url}/admin/accounts?limit=200`, { key: ADMIN_TOKEN })).body.accounts as any[]).find((a) => a.account_id === account);
    expect(await inRegistry()).toBeUndefined();
    await createKey(m(), { account_id: account, label: 'new' });
    expect(await inRegistry()).toMatchObject({ created_at: new Date(writtenAt).toISOString(), keys_active: 2, keys_total: 2 });
    const labels = (await call(`${m().url}/admin/keys?account_id=${account}`, { key: ADMIN_TOKEN })).body.keys.map((k: any) => k.label);
    expect(labels).toEqual(['old laptop', 'new']);
  });
});

it('a key past its expires_at is 401 everywhere and listed as expired; the account stays (grants, new keys)', async () => {
  const m = await startMount('core', { parsed: false, prefix: '', options: {} });
  try {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const k = await createKey(m, { expires_at: expiresAt, label: 'temp' });
    expect(k.expires_at).toBe(expiresAt);
    expect((await call(`${m.url}/memory/store`, { key: k.api_key, body: storeBody })).status).toBe(200);
    expect((await call(`${m.url}/credits/balance`, { key: k.api_key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 50));
    expect((await call(`${m.url}/memory/store`, { key: k.api_key, body: storeBody })).status).toBe(401);
    expect((await call(`${m.url}/memory/retrieve?user_id=u1&key=k`, { key: k.api_key })).status).toBe(401);
    expect((await call(`${m.url}/credits/balance`, { key: k.api_key })).status).toBe(401);
    const listed = (await call(`${m.url}/admin/keys?account_id=${k.account_id}`, { key: ADMIN_TOKEN })).body.keys;
    expect(listed).toMatchObject([{ key_id: k.key_id, status: 'expired', expires_at: expiresAt, label: 'temp' }]);
    // Its only key expired, the account is still one: credit and another key can be given to it.
    const granted = await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: k.account_id, amount_micro_usd: 10, reason: 'r' } });
    expect(granted.status).toBe(201);
    const next = await createKey(m, { account_id: k.account_id });
    expect((await call(`${m.url}/credits/balance`, { key: next.api_key })).body.balance_micro_usd).toBe(10);
  } finally {
    await m.close();
  }
});
