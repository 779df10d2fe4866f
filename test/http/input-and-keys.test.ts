// HTTP conformance: API keys, admin routes, and every kind of bad input answered with a precise 4xx.
import { expect, it } from 'vitest';
import { describeMounts, call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';

async function newKey(m: Mounted): Promise<{ api_key: string; key_id: string; account_id: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: { label: 'test' } });
  expect(r.status).toBe(201);
  return r.body;
}

const store = (m: Mounted, key: string, body: unknown) => call(`${m.url}/memory/store`, { key, body });
const expectError = (r: { status: number; body: any }, status: number, code: string, message?: RegExp) => {
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ status: 'error', error: { code } });
  expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message']);
  if (message) expect(r.body.error.message).toMatch(message);
};

describeMounts('API keys and input validation', () => ({ limits: { maxValueBytes: 64 * 1024, maxDepth: 20 } }), (m) => {
  it('creates keys with a recognizable prefix, shown once, for new or existing accounts', async () => {
    const k = await newKey(m());
    expect(k).toMatchObject({ status: 'success' });
    expect(k.api_key).toMatch(/^apg_[a-z2-7]{24}_[A-Za-z0-9]{40}$/);
    expect(k.key_id).toMatch(/^key_/);
    expect(k.account_id).toMatch(/^acct_/);
    const second = await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: { account_id: k.account_id } });
    expect(second.body.account_id).toBe(k.account_id);
    expect(second.body.api_key).not.toBe(k.api_key);
    // Same account: the second key sees the first key's memories.
    await store(m(), k.api_key, { user_id: 'u', key: 'k', data: 1 });
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k`, { key: second.body.api_key })).status).toBe(200);
    const inProcess = await m().ai.api.keys.create();
    expect((await call(`${m().url}/memory/list?user_id=u`, { key: inProcess.api_key })).status).toBe(200);
  });

  it('answers 401 for a missing, malformed, unknown or revoked key and for the admin token used as an API key', async () => {
    const k = await newKey(m());
    const url = `${m().url}/memory/retrieve?user_id=u&key=k`;
    expectError(await call(url), 401, 'unauthorized', /Missing API key/);
    expectError(await call(url, { key: 'not-a-key' }), 401, 'unauthorized');
    expectError(await call(url, { key: ADMIN_TOKEN }), 401, 'unauthorized');
    const forged = k.api_key.slice(0, -4) + 'AAAA';
    expectError(await call(url, { key: forged }), 401, 'unauthorized', /Invalid or revoked/);
    expect((await call(url, { key: k.api_key })).status).toBe(404);
    const revoke = await call(`${m().url}/admin/keys/${k.key_id}`, { key: ADMIN_TOKEN, method: 'DELETE' });
    expect(revoke.body).toEqual({ status: 'success', key_id: k.key_id, revoked: true });
    const after = await call(url, { key: k.api_key });
    expectError(after, 401, 'unauthorized');
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectError(await call(`${m().url}/admin/keys/key_unknown`, { key: ADMIN_TOKEN, method: 'DELETE' }), 404, 'not_found');
  });

  it('protects admin routes with the admin token', async () => {
    const k = await newKey(m());
    expectError(await call(`${m().url}/admin/keys`, { body: {} }), 401, 'unauthorized');
    expectError(await call(`${m().url}/admin/keys`, { key: k.api_key, body: {} }), 401, 'unauthorized');
    expectError(await call(`${m().url}/admin/keys`, { key: ADMIN_TOKEN, body: { account_id: 'bob' } }), 400, 'invalid_request', /account_id/);
  });

  it('validates every field with a precise message', async () => {
    const { api_key: key } = await newKey(m());
    const cases: Array<[unknown, RegExp]> = [
      [{ key: 'k', data: 1 }, /user_id is required/],
      [{ user_id: 'u', data: 1 }, /key is required/],
      [{ user_id: 'u', key: 'k' }, /data is required/],
      [{ user_id: 7, key: 'k', data: 1 }, /user_id must be a string/],
      [{ user_id: '', key: 'k', data: 1 }, /user_id must not be empty/],
      [{ user_id: 'u'.repeat(257), key: 'k', data: 1 }, /user_id must be at most 256 bytes/],
      [{ user_id: 'é'.repeat(129), key: 'k', data: 1 }, /user_id must be at most 256 bytes/],
      [{ user_id: 'u', key: 'a\nb', data: 1 }, /key must not contain control characters/],
      [{ user_id: 'u', key: 'a\u0000', data: 1 }, /key must not contain control characters/],
      [{ user_id: 'u', key: 'k', data: 1, ttl_days: 0 }, /ttl_days must be greater than 0/],
      [{ user_id: 'u', key: 'k', data: 1, ttl_days: 99999 }, /ttl_days must be greater than 0 and at most 3650/],
      [{ user_id: 'u', key: 'k', data: 1, ttl_days: '30' }, /ttl_days must be a number/],
      [[1, 2], /must be a JSON object/],
      ['just a string', /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      // Strict host parsers (express.json, @koa/bodyparser) refuse a top-level string themselves.
      if (m().parsed && typeof body === 'string') continue;
      expectError(await store(m(), key, body), 400, 'invalid_request', message);
    }
    expectError(await call(`${m().url}/memory/retrieve?user_id=u`, { key }), 400, 'invalid_request', /key is required/);
    expectError(await call(`${m().url}/memory/retrieve?user_id=u&key=k&key=j`, { key }), 400, 'invalid_request', /more than once/);
    expectError(await call(`${m().url}/memory/list?user_id=u&limit=0`, { key }), 400, 'invalid_request', /limit must be between 1 and 1000/);
    expectError(await call(`${m().url}/memory/list?user_id=u&limit=ten`, { key }), 400, 'invalid_request', /limit must be an integer/);
  });

  it('answers malformed JSON 400, deep JSON 400, oversize data 413, wrong method 405', async () => {
    const { api_key: key } = await newKey(m());
    const r = await call(`${m().url}/memory/store`, { key, raw: '{"user_id": "u", "key": ' });
    if (m().parsed) expect(r.status).toBe(400); // the host's own parser answers in its own format
    else expectError(r, 400, 'invalid_request', /Malformed JSON/);
    const deep = '['.repeat(30) + ']'.repeat(30);
    expectError(await call(`${m().url}/memory/store`, { key, raw: `{"user_id":"u","key":"k","data":${deep}}` }), 400, 'invalid_request', /deeper than 20/);
    const big = 'x'.repeat(70 * 1024);
    expectError(await store(m(), key, { user_id: 'u', key: 'k', data: big }), 413, 'payload_too_large', /limit is 65536/);
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k`, { key })).status).toBe(404);
    const wrong = await call(`${m().url}/memory/store`, { key, method: 'PUT', body: {} });
    expectError(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('answers a query that is not percent-encoded UTF-8 with a 400: Latin-1 escapes are never decoded to U+FFFD', async () => {
    const { api_key: key } = await newKey(m());
    expect((await store(m(), key, { user_id: 'caf\ufffd', key: 'k', data: 1 })).status).toBe(200);
    // %E9 and %E8 (é and è in Latin-1) both used to read the memory of the user "caf\uFFFD".
    for (const user of ['caf%E9', 'caf%E8', 'caf%C3', 'caf%ED%A0%80']) {
      expectError(await call(`${m().url}/memory/retrieve?user_id=${user}&key=k`, { key }), 400, 'invalid_request', /Query parameter "user_id" is not percent-encoded UTF-8/);
    }
    const ok = await call(`${m().url}/memory/retrieve?user_id=caf%EF%BF%BD&key=k&x=100%&y=%zz`, { key });
    expect(ok.status).toBe(200);
    expect(ok.body.user_id).toBe('caf\ufffd');
  });

  it('answers a path parameter that is not percent-encoded UTF-8 with a 400 in the error shape, not the host\'s 404', async () => {
    for (const [method, path, key] of [['DELETE', '/admin/keys/%ZZ', ADMIN_TOKEN], ['DELETE', '/admin/keys/key_%ED%A0%80', ADMIN_TOKEN], ['GET', '/docs/%E0%A4%A', undefined]] as const) {
      const r = await call(`${m().url}${path}`, { method, key });
      expectError(r, 400, 'invalid_request', /path parameter (key_id|asset) is not valid percent-encoded UTF-8/);
    }
    // A well-formed one still reaches the route.
    expect((await call(`${m().url}/admin/keys/key_nope`, { method: 'DELETE', key: ADMIN_TOKEN })).status).toBe(404);
  });

  it('answers 413 when the raw body exceeds the body limit (bodies aipaygent reads itself)', async () => {
    if (m().parsed) return; // a host parser applies its own limit before aipaygent
    const { api_key: key } = await newKey(m());
    const huge = JSON.stringify({ user_id: 'u', key: 'k', data: 'y'.repeat(1024 * 1024 + 10) });
    expectError(await call(`${m().url}/memory/store`, { key, raw: huge }), 413, 'payload_too_large', /exceeds/);
    // The connection stays usable afterwards.
    expect((await call(`${m().url}/memory/retrieve?user_id=u&key=k`, { key })).status).toBe(404);
  });
});

describeMounts('admin routes without an admin token', () => ({ adminToken: undefined }), (m) => {
  it('does not serve /admin/* at all (404 from the host)', async () => {
    const r = await call(`${m().url}/admin/keys`, { key: 'anything-at-all-long-enough', body: {} });
    expect(r.status).toBe(404);
    const key = await m().ai.api.keys.create();
    expect((await call(`${m().url}/memory/list?user_id=u`, { key: key.api_key })).status).toBe(200);
    // Every admin route, the new ones too, is a 404 naming the option that turns the admin API on.
    for (const [method, path] of [['GET', '/admin/accounts'], ['GET', `/admin/accounts/${key.account_id}`], ['POST', `/admin/keys/${key.key_id}/rotate`], ['GET', '/admin/keys']]) {
      const off = await call(`${m().url}${path}`, { method, key: 'anything-at-all-long-enough' });
      expect(off.status, `${method} ${path}`).toBe(404);
      expect(off.body.error.message, `${method} ${path}`).toMatch(/adminToken/);
    }
  });
});
