// POST /memory/append on every mount: the article's learning agent without lost messages.
import { expect, it } from 'vitest';
import { describeMounts } from '../support/mounts.js';
import { client, newKey } from './support.js';

describeMounts('memory append', () => ({ freeCallsPerDay: 1_000_000, limits: { maxValueBytes: 4096 } }), (m) => {
  it("creates the article's conversation_history and appends to its arrays", async () => {
    const c = client(m(), await newKey(m()));
    const first = await c.append({ user_id: 'user_456', key: 'conversation_history', path: '/messages', items: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }], ttl_days: 90 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'success', user_id: 'user_456', key: 'conversation_history', version: 1, length: 2 });
    const insight = await c.append({ user_id: 'user_456', key: 'conversation_history', path: '/insights', items: [{ topic: 'db', resolved: true }] });
    expect(insight.body).toMatchObject({ version: 2, length: 1 });
    const got = await c.retrieve('user_456', 'conversation_history');
    expect(got.body.data).toEqual({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }], insights: [{ topic: 'db', resolved: true }] });
    // The article's own code reads it back unchanged.
    expect(got.body.data.messages.length).toBe(2);
  });

  it('appends to the whole value when no path is given, and keeps only the last max_items', async () => {
    const c = client(m(), await newKey(m()));
    await c.append({ user_id: 'u', key: 'log', items: [1, 2, 3] });
    const r = await c.append({ user_id: 'u', key: 'log', items: [4, 5], max_items: 3 });
    expect(r.body.length).toBe(3);
    expect((await c.retrieve('u', 'log')).body.data).toEqual([3, 4, 5]);
  });

  it('creates missing objects on the way, walks into existing arrays by index', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'doc', data: { threads: [{ msgs: [] }], other: true } });
    await c.append({ user_id: 'u', key: 'doc', path: '/threads/0/msgs', items: ['a'] });
    await c.append({ user_id: 'u', key: 'doc', path: '/deep/er/list', items: ['b'] });
    await c.append({ user_id: 'u', key: 'doc', path: '/we~1ird~0name', items: ['c'] });
    expect((await c.retrieve('u', 'doc')).body.data).toEqual({ threads: [{ msgs: ['a'] }], other: true, deep: { er: { list: ['b'] } }, 'we/ird~name': ['c'] });
  });

  it('refuses with 409 when the path is not an array or cannot be created, changing nothing', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 'doc', data: { s: 'text', n: 5, arr: [1] } });
    for (const path of ['/s', '/n/x', '/arr/1/x', '/arr/x']) {
      const r = await c.append({ user_id: 'u', key: 'doc', path, items: [1] });
      expect([path, r.status, r.body.error.code]).toEqual([path, 409, 'conflict']);
    }
    expect((await c.append({ user_id: 'u', key: 'doc', items: [1] })).status).toBe(409);
    const after = await c.retrieve('u', 'doc');
    expect([after.body.version, after.body.etag]).toEqual([1, s.body.etag]);
  });

  it('validates its input precisely', async () => {
    const c = client(m(), await newKey(m()));
    const cases: Array<[object, RegExp]> = [
      [{ user_id: 'u', key: 'k', items: [] }, /items must not be empty/],
      [{ user_id: 'u', key: 'k', items: 'x' }, /items must be an array/],
      [{ user_id: 'u', key: 'k', items: [1], path: 'messages' }, /path must be a JSON Pointer/],
      [{ user_id: 'u', key: 'k', items: [1], max_items: 0 }, /max_items must be at least 1/],
      [{ user_id: 'u', key: 'k', items: [1], ttl_days: -1 }, /ttl_days/],
    ];
    for (const [body, message] of cases) {
      const r = await c.append(body);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
  });

  it('keeps the TTL a memory was stored with (renewed), or takes ttl_days', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 't', data: [], ttl_days: 2 });
    const a = await c.append({ user_id: 'u', key: 't', items: [1] });
    const days = (iso: string, from: string) => (Date.parse(iso) - Date.parse(from)) / 86_400_000;
    expect(days(a.body.expires_at, a.body.updated_at)).toBeCloseTo(2, 3);
    expect(Date.parse(a.body.expires_at)).toBeGreaterThanOrEqual(Date.parse(s.body.expires_at));
    const b = await c.append({ user_id: 'u', key: 't', items: [2], ttl_days: 30 });
    expect(days(b.body.expires_at, b.body.updated_at)).toBeCloseTo(30, 3);
  });

  it('honours If-Match', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.append({ user_id: 'u', key: 'k', items: [1] });
    expect((await c.append({ user_id: 'u', key: 'k', items: [2] }, { 'if-match': '"stale"' })).status).toBe(412);
    expect((await c.append({ user_id: 'u', key: 'k', items: [2] }, { 'if-match': s.body.etag })).status).toBe(200);
    expect((await c.append({ user_id: 'u', key: 'new', items: [1] }, { 'if-match': '*' })).status).toBe(412);
  });

  it('refuses a result above the value limit with 413, keeping the memory', async () => {
    const c = client(m(), await newKey(m()));
    await c.append({ user_id: 'u', key: 'big', items: ['x'.repeat(1000)] });
    const r = await c.append({ user_id: 'u', key: 'big', items: ['y'.repeat(3500)] });
    expect([r.status, r.body.error.code]).toEqual([413, 'payload_too_large']);
    expect((await c.retrieve('u', 'big')).body.data).toHaveLength(1);
  });

  it('200 concurrent appends through one server: none lost, each once, in one array', async () => {
    const c = client(m(), await newKey(m()));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.append({ user_id: 'u', key: 'chat', path: '/messages', items: [{ i }] })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const data = (await c.retrieve('u', 'chat')).body.data as { messages: Array<{ i: number }> };
    expect(data.messages.map((x) => x.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
