// ETags and conditional writes on every mount: If-Match / If-None-Match on store, delete and retrieve.
import { expect, it } from 'vitest';
import { describeMounts } from '../support/mounts.js';
import { client, newKey, sleep } from './support.js';

describeMounts('conditional memory writes', () => ({ freeCallsPerDay: 1_000_000 }), (m) => {
  it('answers the content ETag in the header and the body of every write and of retrieve', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 'k', data: { a: 1 } });
    expect(s.status).toBe(200);
    expect(s.body.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(s.headers.get('etag')).toBe(s.body.etag);
    const r = await c.retrieve('u', 'k');
    expect([r.headers.get('etag'), r.body.etag, r.body.version]).toEqual([s.body.etag, s.body.etag, 1]);
    const a = await c.append({ user_id: 'u', key: 'list', items: [1] });
    expect(a.headers.get('etag')).toBe(a.body.etag);
  });

  it('If-Match: applies to the matching content only, 412 with the current version and ETag otherwise', async () => {
    const c = client(m(), await newKey(m()));
    const v1 = await c.store({ user_id: 'u', key: 'k', data: 'one' });
    const v2 = await c.store({ user_id: 'u', key: 'k', data: 'two' }, { 'if-match': v1.body.etag });
    expect([v2.status, v2.body.version]).toEqual([200, 2]);
    const stale = await c.store({ user_id: 'u', key: 'k', data: 'three' }, { 'if-match': v1.body.etag });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({
      status: 'error', error: { code: 'precondition_failed', message: expect.any(String) }, current: { version: 2, etag: v2.body.etag },
    });
    expect((await c.retrieve('u', 'k')).body.data).toBe('two');
    // A list, "*", and weak tags (never equal under the strong comparison If-Match uses).
    expect((await c.store({ user_id: 'u', key: 'k', data: 'x' }, { 'if-match': `"nope", ${v2.body.etag}` })).status).toBe(200);
    expect((await c.store({ user_id: 'u', key: 'k', data: 'y' }, { 'if-match': '*' })).status).toBe(200);
    const cur = (await c.retrieve('u', 'k')).body.etag as string;
    expect((await c.store({ user_id: 'u', key: 'k', data: 'z' }, { 'if-match': `W/${cur}` })).status).toBe(412);
    expect((await c.store({ user_id: 'u', key: 'absent', data: 1 }, { 'if-match': '*' })).status).toBe(412);
    expect((await c.retrieve('u', 'absent')).status).toBe(404);
  });

  it('If-None-Match: * creates only when absent', async () => {
    const c = client(m(), await newKey(m()));
    const first = await c.store({ user_id: 'u', key: 'once', data: 1 }, { 'if-none-match': '*' });
    expect([first.status, first.body.version]).toEqual([200, 1]);
    const second = await c.store({ user_id: 'u', key: 'once', data: 2 }, { 'if-none-match': '*' });
    expect(second.status).toBe(412);
    expect(second.body.current).toEqual({ version: 1, etag: first.body.etag });
    // If-None-Match with a tag: refused while the content still has it.
    expect((await c.store({ user_id: 'u', key: 'once', data: 3 }, { 'if-none-match': first.body.etag })).status).toBe(412);
    expect((await c.store({ user_id: 'u', key: 'once', data: 3 }, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('a malformed condition is a 400, not a silent unconditional write', async () => {
    const c = client(m(), await newKey(m()));
    for (const bad of ['abc', '"open', '"a" "b"', 'W/abc']) {
      const r = await c.store({ user_id: 'u', key: 'k', data: 1 }, { 'if-match': bad });
      expect(r.status, bad).toBe(400);
    }
    expect((await c.retrieve('u', 'k')).status).toBe(404);
  });

  it('storing identical content is a new version with the same ETag; expires_at renews, created_at stays', async () => {
    const c = client(m(), await newKey(m()));
    const a = await c.store({ user_id: 'u', key: 'same', data: { x: [1, 2] }, ttl_days: 1 });
    await sleep(1100);
    const b = await c.store({ user_id: 'u', key: 'same', data: { x: [1, 2] }, ttl_days: 1 });
    expect(b.body.version).toBe(a.body.version + 1);
    expect(b.body.etag).toBe(a.body.etag);
    expect(b.body.created_at).toBe(a.body.created_at);
    expect(Date.parse(b.body.expires_at)).toBeGreaterThan(Date.parse(a.body.expires_at));
    // So If-Match by ETag still holds after such a write: content, not write count, is compared.
    expect((await c.store({ user_id: 'u', key: 'same', data: 'new' }, { 'if-match': a.body.etag })).status).toBe(200);
  });

  it('retrieve answers 304 to If-None-Match with the current ETag', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 'k', data: { big: 'x'.repeat(100) } });
    const same = await c.retrieve('u', 'k', { 'if-none-match': s.body.etag });
    expect([same.status, same.text, same.headers.get('etag')]).toEqual([304, '', s.body.etag]);
    const other = await c.retrieve('u', 'k', { 'if-none-match': '"other"' });
    expect([other.status, other.body.data.big.length]).toEqual([200, 100]);
  });

  it('delete honours If-Match and removes the history too', async () => {
    const c = client(m(), await newKey(m()));
    const v1 = await c.store({ user_id: 'u', key: 'k', data: 1 });
    const v2 = await c.store({ user_id: 'u', key: 'k', data: 2 });
    expect((await c.remove('u', 'k', { 'if-match': v1.body.etag })).status).toBe(412);
    const del = await c.remove('u', 'k', { 'if-match': v2.body.etag });
    expect(del.body).toMatchObject({ status: 'success', deleted: true, deleted_versions: 2 });
    expect((await c.history('u', 'k')).body.versions).toEqual([]);
    expect((await c.remove('u', 'k', { 'if-match': '*' })).status).toBe(412);
  });

  it('concurrent writers holding the same ETag: exactly one wins, the others get 412 (no lost update)', async () => {
    const c = client(m(), await newKey(m()));
    const base = await c.store({ user_id: 'u', key: 'race', data: 0 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.store({ user_id: 'u', key: 'race', data: i + 1 }, { 'if-match': base.body.etag })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const winner = results.find((r) => r.status === 200)!;
    expect((await c.retrieve('u', 'race')).body.etag).toBe(winner.body.etag);
  });
});
