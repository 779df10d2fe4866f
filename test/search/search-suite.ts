// The search endpoints' HTTP suite: run on every mount and every backend.
import { expect, it } from 'vitest';
import { call, ADMIN_TOKEN, type Mounted } from '../support/mounts.js';

/** A new key whose account has credit for the calls of a test (past its 10 free ones). */
async function newKey(m: Mounted): Promise<{ key: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  const account = r.body.account_id as string;
  const grant = await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: account, amount_micro_usd: 1_000_000, reason: 'test' } });
  expect(grant.status).toBe(201);
  return { key: r.body.api_key as string, account };
}

const MEMORIES: Array<[string, unknown]> = [
  ['coding_preferences', { language: 'Python', style: 'functional', framework: 'FastAPI', testing: 'pytest', documented: true }],
  ['frontendStack', { framework: 'React', bundler: 'Vite', notes: 'TypeScript everywhere' }],
  ['project/alpha/notes', { summary: 'Migrating the billing service to Postgres', owner: 'Zoë Müller', deadline: '2026-03-01' }],
  ['contact.jane', { name: 'Jane Doe', role: 'designer', email: 'jane@example.com' }],
  ['todo', ['renew the TLS certificate', 'deploy the search index', 'write the release notes']],
];

/** Registers the search suite against the mount `m()` returns. */
export function searchConformance(m: () => Mounted): void {
  const store = async (key: string, user: string, k: string, data: unknown, ttl_days?: number) => {
    const r = await call(`${m().url}/memory/store`, { key, body: { user_id: user, key: k, data, ...(ttl_days !== undefined && { ttl_days }) } });
    expect(r.status).toBe(200);
    return r.body;
  };
  const search = (key: string, params: Record<string, string>) => call(`${m().url}/memory/search?${new URLSearchParams(params)}`, { key });

  it('finds memories by key and value words, best first, in the documented shape', async () => {
    const { key } = await newKey(m());
    for (const [k, data] of MEMORIES) await store(key, 'dev_user_123', k, data);
    const r = await search(key, { user_id: 'dev_user_123', q: 'FastAPI' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toMatchObject({ status: 'success', user_id: 'dev_user_123', query: 'FastAPI', mode: 'lexical' });
    expect(r.body.results).toHaveLength(1);
    const hit = r.body.results[0];
    expect(Object.keys(hit)).toEqual(['key', 'score', 'data', 'version', 'etag', 'updated_at', 'expires_at']);
    expect(hit).toMatchObject({ key: 'coding_preferences', data: MEMORIES[0]![1], version: 1 });
    expect(hit.score).toBeGreaterThan(0);
    expect(hit.etag).toMatch(/^"/);
    expect(hit.expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const keys = async (q: string, extra: Record<string, string> = {}) => (await search(key, { user_id: 'dev_user_123', q, ...extra })).body.results.map((x: { key: string }) => x.key);
    expect(await keys('framework fastapi')).toEqual(['coding_preferences', 'frontendStack']);
    expect(await keys('frontend stack')).toEqual(['frontendStack']);
    expect(await keys('alpha')).toEqual(['project/alpha/notes']);
    expect(await keys('zoe muller postgres')).toEqual(['project/alpha/notes']);
    expect(await keys('jane')).toEqual(['contact.jane']);
    expect(await keys('"search index"')).toEqual(['todo']);
    expect(await keys('certif*')).toEqual(['todo']);
    expect(await keys('renewing certificates')).toEqual(['todo']);
    expect(await keys('kubernetes')).toEqual([]);
  });

  it('POST takes the same fields as JSON; limit, prefix and include_data=false apply', async () => {
    const { key } = await newKey(m());
    for (let i = 0; i < 14; i++) await store(key, 'u', `${i < 7 ? 'a' : 'b'}/note${i}`, { text: `shared topic number ${i}` });
    const post = await call(`${m().url}/memory/search`, { key, body: { user_id: 'u', q: 'shared '.repeat(300).trim(), limit: 3, prefix: 'b/', include_data: false } });
    expect(post.status).toBe(200);
    expect(post.body.results).toHaveLength(3);
    for (const hit of post.body.results) {
      expect(hit.key.startsWith('b/')).toBe(true);
      expect(hit).not.toHaveProperty('data');
    }
    expect((await search(key, { user_id: 'u', q: 'shared' })).body.results).toHaveLength(10);
    expect((await search(key, { user_id: 'u', q: 'shared', limit: '100' })).body.results).toHaveLength(14);
    // Same score (same shape of document), the most recently updated first.
    const ordered = (await search(key, { user_id: 'u', q: 'topic', limit: '3' })).body.results.map((x: { key: string }) => x.key);
    expect(ordered).toEqual(['b/note13', 'b/note12', 'b/note11']);
  });

  it('an overwrite, append, patch, restore, import, delete and erasure are what the next search sees', async () => {
    const { key } = await newKey(m());
    await store(key, 'u', 'k', { city: 'Lisbon' });
    await store(key, 'u', 'k', { city: 'Porto' });
    const keys = async (q: string) => (await search(key, { user_id: 'u', q })).body.results.map((x: { key: string }) => x.key);
    expect(await keys('lisbon')).toEqual([]);
    expect(await keys('porto')).toEqual(['k']);
    const appended = await call(`${m().url}/memory/append`, { key, body: { user_id: 'u', key: 'log', items: ['visited Braga'] } });
    expect(appended.status).toBe(200);
    expect(await keys('braga')).toEqual(['log']);
    const patched = await call(`${m().url}/memory/patch`, { key, method: 'PATCH', body: { user_id: 'u', key: 'k', patch: { city: 'Faro' } } });
    expect(patched.status).toBe(200);
    expect(await keys('porto')).toEqual([]);
    expect(await keys('faro')).toEqual(['k']);
    // A restore writes an old version back: its words are found again, the newer ones no longer.
    const restored = await call(`${m().url}/memory/restore`, { key, body: { user_id: 'u', key: 'k', version: 1 } });
    expect(restored.status).toBe(200);
    expect(await keys('lisbon')).toEqual(['k']);
    expect(await keys('faro')).toEqual([]);
    // An import indexes what it writes.
    const imported = await fetch(`${m().url}/memory/import?user_id=u`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ key: 'k', data: { city: 'Faro' } })}\n${JSON.stringify({ key: 'trip', data: 'Coimbra in June' })}\n`,
    });
    expect(imported.status).toBe(200);
    expect(await keys('coimbra')).toEqual(['trip']);
    expect(await keys('lisbon')).toEqual([]);
    expect((await call(`${m().url}/memory/delete?user_id=u&key=k`, { key, method: 'DELETE' })).status).toBe(200);
    expect(await keys('faro')).toEqual([]);
    const erased = await call(`${m().url}/memory/user?user_id=u`, { key, method: 'DELETE' });
    expect(erased.body).toMatchObject({ deleted_keys: 2, deleted_index_entries: 2 });
    expect(await keys('braga')).toEqual([]);
    expect(await keys('coimbra')).toEqual([]);
  });

  it('is scoped by account and user, never returns an expired memory, and is metered', async () => {
    const a = await newKey(m());
    const b = await newKey(m());
    await store(a.key, 'alice', 'secret', { word: 'zanzibar' });
    await store(a.key, 'alice', 'brief', { word: 'zanzibar' }, 0.000_01); // about 1 s
    expect((await search(b.key, { user_id: 'alice', q: 'zanzibar' })).body.results).toEqual([]);
    expect((await search(a.key, { user_id: 'bob', q: 'zanzibar' })).body.results).toEqual([]);
    expect((await search(a.key, { user_id: 'alice', q: 'zanzibar' })).body.results).toHaveLength(2);
    // expires_at is rounded up to the second: at most 1.87 s away.
    await new Promise((r) => setTimeout(r, 2000));
    const later = await search(a.key, { user_id: 'alice', q: 'zanzibar' });
    expect(later.body.results.map((x: { key: string }) => x.key)).toEqual(['secret']);
    // Metered like every memory route: 5 calls of this key so far; 5 more are free, the 6th is debited its price.
    const balance = async () => (await call(`${m().url}/credits/balance`, { key: a.key })).body;
    expect(await balance()).toMatchObject({ free_calls_remaining: 5, balance_micro_usd: 1_000_000 });
    for (let i = 0; i < 6; i++) expect((await search(a.key, { user_id: 'alice', q: 'zanzibar' })).status).toBe(200);
    expect(await balance()).toMatchObject({ free_calls_remaining: 0, balance_micro_usd: 1_000_000 - 100 });
  });

  it('bad input gets a precise 400 in the one error shape', async () => {
    const { key } = await newKey(m());
    const bad = async (params: Record<string, string>, message: RegExp) => {
      const r = await search(key, params);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ status: 'error', error: { code: 'invalid_request' } });
      expect(r.body.error.message).toMatch(message);
    };
    await bad({ user_id: 'u' }, /q is required/);
    await bad({ user_id: 'u', q: '' }, /q must not be empty/);
    await bad({ user_id: 'u', q: '!!! ???' }, /no word/);
    await bad({ user_id: 'u', q: 'x', limit: '0' }, /limit/);
    await bad({ user_id: 'u', q: 'x', limit: '101' }, /limit/);
    await bad({ user_id: 'u', q: 'x', mode: 'fuzzy' }, /mode must be/);
    await bad({ user_id: 'u', q: 'x', mode: 'semantic' }, /needs an embedder/);
    await bad({ user_id: 'u', q: 'x'.repeat(5000) }, /at most 4096/);
    await bad({ user_id: 'u', q: 'a\u0000b' }, /q /);
    const post = await call(`${m().url}/memory/search`, { key, body: { user_id: 'u', q: 'x', limit: '5' } });
    expect(post.status).toBe(400);
    expect(post.body.error.message).toMatch(/limit must be an integer/);
  });
}
