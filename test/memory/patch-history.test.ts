// Merge patch, JSON Patch, history and restore over HTTP on every mount.
import { expect, it } from 'vitest';
import { describeMounts } from '../support/mounts.js';
import { client, newKey } from './support.js';

describeMounts('memory patches and history', () => ({ freeCallsPerDay: 1_000_000, memory: { historyVersions: 3 } }), (m) => {
  it('PATCH applies a JSON Merge Patch atomically, creating the memory when absent', async () => {
    const c = client(m(), await newKey(m()));
    const created = await c.merge({ user_id: 'u', key: 'prefs', patch: { language: 'Python', style: 'functional' } });
    expect(created.body).toMatchObject({ status: 'success', version: 1 });
    const r = await c.merge({ user_id: 'u', key: 'prefs', patch: { style: null, framework: 'FastAPI', nested: { a: 1 } } });
    expect(r.headers.get('etag')).toBe(r.body.etag);
    expect((await c.retrieve('u', 'prefs')).body.data).toEqual({ language: 'Python', framework: 'FastAPI', nested: { a: 1 } });
    expect((await c.merge({ user_id: 'u', key: 'prefs', patch: { x: 1 } }, { 'if-match': created.body.etag })).status).toBe(412);
    expect((await c.merge({ user_id: 'u', key: 'prefs' })).status).toBe(400);
  });

  it('concurrent merge patches of different members all land', async () => {
    const c = client(m(), await newKey(m()));
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.merge({ user_id: 'u', key: 'many', patch: { [`m${i}`]: i } })));
    const data = (await c.retrieve('u', 'many')).body.data as Record<string, number>;
    expect(Object.keys(data)).toHaveLength(50);
  });

  it('POST applies a JSON Patch: all operations or none; a failed test or missing path is 409', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'doc', data: { count: 1, tags: ['a'] } });
    const ok = await c.patch({ user_id: 'u', key: 'doc', operations: [{ op: 'test', path: '/count', value: 1 }, { op: 'replace', path: '/count', value: 2 }, { op: 'add', path: '/tags/-', value: 'b' }] });
    expect([ok.status, ok.body.version]).toEqual([200, 2]);
    const failed = await c.patch({ user_id: 'u', key: 'doc', operations: [{ op: 'add', path: '/x', value: 1 }, { op: 'test', path: '/count', value: 1 }] });
    expect([failed.status, failed.body.error.code]).toEqual([409, 'conflict']);
    expect(failed.body.error.message).toMatch(/operation 1 \(test\)/);
    const missing = await c.patch({ user_id: 'u', key: 'doc', operations: [{ op: 'remove', path: '/nope' }] });
    expect([missing.status, missing.body.error.code]).toEqual([409, 'conflict']);
    expect((await c.retrieve('u', 'doc')).body).toMatchObject({ version: 2, data: { count: 2, tags: ['a', 'b'] } });
    // A patch of tests only writes nothing.
    expect((await c.patch({ user_id: 'u', key: 'doc', operations: [{ op: 'test', path: '/count', value: 2 }] })).body.version).toBe(2);
    expect((await c.patch({ user_id: 'u', key: 'absent', operations: [{ op: 'test', path: '', value: 1 }] })).status).toBe(404);
  });

  it('refuses malformed JSON Patch documents with a 400', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'doc', data: {} });
    for (const operations of [[], [{ op: 'jump', path: '/a' }], [{ op: 'add', path: 'a', value: 1 }], [{ op: 'add', path: '/a' }], [{ op: 'move', path: '/a' }], 'x']) {
      const r = await c.patch({ user_id: 'u', key: 'doc', operations });
      expect([JSON.stringify(operations), r.status]).toEqual([JSON.stringify(operations), 400]);
    }
  });

  it('keeps the last N versions with operation and time, newest first, and restores one', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'k', data: { v: 1 } });
    await c.append({ user_id: 'u', key: 'k', path: '/list', items: [1] });
    await c.merge({ user_id: 'u', key: 'k', patch: { v: 3 } });
    await c.patch({ user_id: 'u', key: 'k', operations: [{ op: 'replace', path: '/v', value: 4 }] });
    const h = await c.history('u', 'k');
    expect(h.status).toBe(200);
    expect(h.body.versions.map((v: { version: number; operation: string }) => [v.version, v.operation])).toEqual([[4, 'json_patch'], [3, 'merge_patch'], [2, 'append']]);
    expect(Object.keys(h.body.versions[0]).sort()).toEqual(['etag', 'expires_at', 'operation', 'size', 'updated_at', 'version']);
    const withData = await c.history('u', 'k', { include_data: 'true' });
    expect(withData.body.versions.map((v: { data: unknown }) => v.data)).toEqual([{ v: 4, list: [1] }, { v: 3, list: [1] }, { v: 1, list: [1] }]);
    const restored = await c.restore({ user_id: 'u', key: 'k', version: 2 });
    expect(restored.body).toMatchObject({ status: 'success', version: 5, restored_version: 2, etag: withData.body.versions[2].etag });
    expect((await c.retrieve('u', 'k')).body.data).toEqual({ v: 1, list: [1] });
    const after = await c.history('u', 'k');
    expect(after.body.versions[0]).toMatchObject({ version: 5, operation: 'restore', restored_from: 2 });
    expect(after.body.versions).toHaveLength(3);
    expect((await c.restore({ user_id: 'u', key: 'k', version: 1 })).status).toBe(404); // pruned
    expect((await c.restore({ user_id: 'u', key: 'k', version: 4 }, { 'if-match': '"stale"' })).status).toBe(412);
  });

  it('history goes with the key on delete and with the user on erasure, with counts', async () => {
    const c = client(m(), await newKey(m()));
    for (let i = 0; i < 5; i++) await c.store({ user_id: 'gone', key: 'a', data: i });
    await c.store({ user_id: 'gone', key: 'b', data: 1 });
    expect((await c.remove('gone', 'a')).body.deleted_versions).toBe(3);
    await c.store({ user_id: 'gone', key: 'c', data: 1 });
    await c.store({ user_id: 'gone', key: 'c', data: 2 });
    expect((await c.erase('gone')).body).toEqual({ status: 'success', user_id: 'gone', deleted_keys: 2, deleted_versions: 3, deleted_index_entries: 2 });
    expect((await c.history('gone', 'c')).body.versions).toEqual([]);
    // A re-created key starts a fresh history.
    expect((await c.store({ user_id: 'gone', key: 'c', data: 'new' })).body.version).toBe(1);
    expect((await c.history('gone', 'c')).body.versions).toHaveLength(1);
  });
});

describeMounts('memory without history', () => ({ memory: { historyVersions: 0 } }), (m) => {
  it('keeps no versions and writes a store in one store call', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'k', data: 1 });
    await c.store({ user_id: 'u', key: 'k', data: 2 });
    expect((await c.history('u', 'k')).body.versions).toEqual([]);
    expect((await c.restore({ user_id: 'u', key: 'k', version: 1 })).status).toBe(404);
    expect((await c.erase('u')).body).toMatchObject({ deleted_keys: 1, deleted_versions: 0 });
  });
});
