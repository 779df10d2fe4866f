// The memory endpoints' HTTP conformance suite: run unchanged on every mount and every backend.
import { expect, it } from 'vitest';
import { call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';

// The article's curl body, byte for byte (newlines included).
const ARTICLE_BODY = `{
"user_id": "dev_user_123",
"key": "coding_preferences",
"data": {
"language": "Python",
"style": "functional",
"framework": "FastAPI",
"testing": "pytest",
"documented": true,
"last_updated": "2024-01-15T10:30:00Z"
},
"ttl_days": 365
}`;

async function newKey(m: Mounted): Promise<string> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  return r.body.api_key as string;
}

/** Registers the memory suite against the mount `m()` returns. */
export function memoryConformance(m: () => Mounted): void {
  it("stores the article's curl body and answers the article's response shape", async () => {
    const key = await newKey(m());
    const before = Date.now();
    const r = await call(`${m().url}/memory/store`, { key, raw: ARTICLE_BODY });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).slice(0, 5)).toEqual(['status', 'message', 'key', 'user_id', 'expires_at']);
    expect(r.body).toMatchObject({ status: 'success', message: 'Memory stored successfully', key: 'coding_preferences', user_id: 'dev_user_123', version: 1 });
    expect(r.body.expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const ttl = Date.parse(r.body.expires_at) - before;
    expect(ttl).toBeGreaterThanOrEqual(365 * 86_400_000 - 1000);
    expect(ttl).toBeLessThanOrEqual(365 * 86_400_000 + 2000);
    expect(r.body.created_at).toBe(r.body.updated_at);
  });

  it("retrieves as the article's Python does (query string) and returns data unchanged", async () => {
    const key = await newKey(m());
    await call(`${m().url}/memory/store`, { key, raw: ARTICLE_BODY });
    const r = await call(`${m().url}/memory/retrieve?user_id=dev_user_123&key=coding_preferences`, { key });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual(JSON.parse(ARTICLE_BODY).data);
    expect(r.body).toMatchObject({ status: 'success', user_id: 'dev_user_123', key: 'coding_preferences', version: 1 });
    expect(r.headers.get('etag')).toBe(r.body.etag);
  });

  it('answers 404 without a data field for an absent memory, so .get("data", default) works', async () => {
    const key = await newKey(m());
    const r = await call(`${m().url}/memory/retrieve?user_id=user_456&key=conversation_history`, { key });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ status: 'error', error: { code: 'not_found', message: expect.any(String) } });
    expect('data' in r.body).toBe(false);
  });

  it('overwrites: keeps created_at, bumps version and updated_at', async () => {
    const key = await newKey(m());
    const first = await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: 1 } });
    await new Promise((r) => setTimeout(r, 5));
    const second = await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: { v: 2 } } });
    expect(second.body.version).toBe(2);
    expect(second.body.created_at).toBe(first.body.created_at);
    expect(Date.parse(second.body.updated_at)).toBeGreaterThan(Date.parse(first.body.updated_at));
    const got = await call(`${m().url}/memory/retrieve?user_id=u&key=k`, { key });
    expect(got.body.data).toEqual({ v: 2 });
  });

  it('stores any JSON value, including null, arrays, strings and __proto__ keys, as plain data', async () => {
    const key = await newKey(m());
    for (const [i, data] of [null, 0, 'text', [1, [2]]].entries()) {
      expect((await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: `k${i}`, data } })).status).toBe(200);
    }
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k0`, { key })).body.data).toBeNull();
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k3`, { key })).body.data).toEqual([1, [2]]);
    const raw = '{"user_id":"u","key":"k4","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}}';
    const stored = await call(`${m().url}/memory/store`, { key, raw });
    if (m().kind.startsWith('koa') && m().parsed) {
      // @koa/bodyparser (co-body + bourne) refuses __proto__ itself, before aipaygent sees the request.
      expect(stored.status).toBe(400);
      return;
    }
    expect(stored.status).toBe(200);
    const proto = await call(`${m().url}/memory/retrieve?user_id=u&key=k4`, { key });
    expect(proto.text).toContain('"data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists keys with metadata, no values, by prefix and with an opaque cursor', async () => {
    const key = await newKey(m());
    for (const k of ['pref_b', 'pref_a', 'other', 'pref_c']) {
      await call(`${m().url}/memory/store`, { key, body: { user_id: 'lister', key: k, data: { k } } });
    }
    const p1 = await call(`${m().url}/memory/list?user_id=lister&prefix=pref_&limit=2`, { key });
    expect(p1.status).toBe(200);
    expect(p1.body.keys.map((x: { key: string }) => x.key)).toEqual(['pref_a', 'pref_b']);
    expect(Object.keys(p1.body.keys[0]).sort()).toEqual(['etag', 'expires_at', 'key', 'size', 'updated_at', 'version']);
    expect(typeof p1.body.next_cursor).toBe('string');
    const p2 = await call(`${m().url}/memory/list?user_id=lister&prefix=pref_&limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`, { key });
    expect(p2.body.keys.map((x: { key: string }) => x.key)).toEqual(['pref_c']);
    expect(p2.body.next_cursor).toBeNull();
    const all = await call(`${m().url}/memory/list?user_id=lister`, { key });
    expect(all.body.keys.length).toBe(4);
    const bad = await call(`${m().url}/memory/list?user_id=lister&cursor=garbage`, { key });
    expect(bad.status).toBe(400);
  });

  it('deletes one memory, then 404s; erases a user and returns counts', async () => {
    const key = await newKey(m());
    for (const k of ['a', 'b', 'c']) await call(`${m().url}/memory/store`, { key, body: { user_id: 'gone', key: k, data: 1 } });
    await call(`${m().url}/memory/store`, { key, body: { user_id: 'kept', key: 'a', data: 1 } });
    const del = await call(`${m().url}/memory/delete?user_id=gone&key=a`, { key, method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ status: 'success', deleted: true });
    expect((await call(`${m().url}/memory/delete?user_id=gone&key=a`, { key, method: 'DELETE' })).status).toBe(404);
    const erase = await call(`${m().url}/memory/user?user_id=gone`, { key, method: 'DELETE' });
    expect(erase.body).toEqual({ status: 'success', user_id: 'gone', deleted_keys: 2, deleted_versions: 2, deleted_index_entries: 2 });
    expect((await call(`${m().url}/memory/list?user_id=gone`, { key })).body.keys).toEqual([]);
    expect((await call(`${m().url}/memory/retrieve?user_id=kept&key=a`, { key })).status).toBe(200);
  });

  it('expires memories: never returned or listed after ttl_days', async () => {
    const key = await newKey(m());
    const tiny = 1.5 / 86_400; // 1.5 s, fractional days are allowed
    const r = await call(`${m().url}/memory/store`, { key, body: { user_id: 'ttl', key: 'short', data: 1, ttl_days: tiny } });
    expect(r.status).toBe(200);
    expect((await call(`${m().url}/memory/retrieve?user_id=ttl&key=short`, { key })).status).toBe(200);
    await new Promise((res) => setTimeout(res, Date.parse(r.body.expires_at) - Date.now() + 50));
    expect((await call(`${m().url}/memory/retrieve?user_id=ttl&key=short`, { key })).status).toBe(404);
    expect((await call(`${m().url}/memory/list?user_id=ttl`, { key })).body.keys).toEqual([]);
  });

  it('isolates accounts: B can never read, list, delete or erase what A stored, whatever user_id it sends', async () => {
    const a = await newKey(m());
    const b = await newKey(m());
    await call(`${m().url}/memory/store`, { key: a, body: { user_id: 'shared_name', key: 'secret', data: 'of A' } });
    expect((await call(`${m().url}/memory/retrieve?user_id=shared_name&key=secret`, { key: b })).status).toBe(404);
    expect((await call(`${m().url}/memory/list?user_id=shared_name`, { key: b })).body.keys).toEqual([]);
    expect((await call(`${m().url}/memory/delete?user_id=shared_name&key=secret`, { key: b, method: 'DELETE' })).status).toBe(404);
    expect((await call(`${m().url}/memory/user?user_id=shared_name`, { key: b, method: 'DELETE' })).body.deleted_keys).toBe(0);
    const still = await call(`${m().url}/memory/retrieve?user_id=shared_name&key=secret`, { key: a });
    expect(still.body.data).toBe('of A');
  });

  it('leaves paths it does not serve to the host', async () => {
    const ping = await call(`${m().hostUrl}/host/ping`);
    expect(ping.body).toEqual({ host: true });
    if (m().kind !== 'core') {
      const echo = await call(`${m().hostUrl}/host/echo`, { body: { hello: 'host' } });
      expect(echo.body).toEqual({ echoed: { hello: 'host' } });
    }
  });
}
