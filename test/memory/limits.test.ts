// What a store refuses, no other write accepts: non-finite numbers, depth (pointers, patches, imports, restores) and TTLs.
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { MemoryService, type MemoryLimits } from '../../src/memory/memory-service.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { call, describeMounts, startMount } from '../support/mounts.js';
import { client, newKey } from './support.js';

/** `leaf` inside `levels` arrays. */
function nested(levels: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const ndjson = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

describeMounts('input limits of the memory writes', () => ({ freeCallsPerDay: 1_000_000 }), (m) => {
  it('a number JSON cannot hold (1e400 reads as Infinity, stored as null) is a 400 naming where, whoever parsed the body', async () => {
    const key = await newKey(m());
    const c = client(m(), key);
    const raw = (path: string, body: string, method = 'POST') => call(`${m().url}${path}`, { key, raw: body, method });
    const cases: Array<[string, string, string, string?]> = [
      ['/memory/store', '{"user_id":"u","key":"k","data":1e400}', 'at /data '],
      ['/memory/store', '{"user_id":"u","key":"k","data":{"a":[1,-1e999]}}', 'at /data/a/1 '],
      ['/memory/append', '{"user_id":"u","key":"k","items":[1e400]}', 'at /items/0 '],
      ['/memory/patch', '{"user_id":"u","key":"k","patch":{"x":1e309}}', 'at /patch/x ', 'PATCH'],
      ['/memory/patch', '{"user_id":"u","key":"k","operations":[{"op":"add","path":"/x","value":1e400}]}', 'at /operations/0/value '],
    ];
    for (const [path, body, where, method] of cases) {
      const r = await raw(path, body, method);
      expect([path, r.status, r.body.error.code, r.body.error.message]).toEqual([path, 400, 'invalid_request', expect.stringContaining(`JSON body has a number out of range ${where}`)]);
    }
    expect((await c.retrieve('u', 'k')).status).toBe(404);
    const imported = await c.importText('u', ndjson({ key: 'ok', data: 1 }, '{"key":"k","data":{"n":1e400}}'));
    expect([imported.status, imported.body.line, imported.body.error.message]).toEqual([400, 2, expect.stringMatching(/^line 2: the line has a number out of range at \/data\/n /)]);
    expect((await c.retrieve('u', 'k')).status).toBe(404);
  });

  it('bytes that are not UTF-8 are a 400, not silently decoded to U+FFFD (when aipaygent reads the body; a host parser decides for itself)', async () => {
    const key = await newKey(m());
    const c = client(m(), key);
    const send = (path: string, type: string, bytes: Buffer) =>
      fetch(`${m().url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': type }, body: bytes }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const latin1 = Buffer.concat([Buffer.from('{"user_id":"u","key":"k","data":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    if (!m().parsed) {
      const r = await send('/memory/store', 'application/json', latin1);
      expect([r.status, r.body.error.message]).toEqual([400, 'JSON body is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)']);
      expect((await c.retrieve('u', 'k')).status).toBe(404);
    }
    const line = Buffer.concat([Buffer.from('{"key":"ok","data":1}\n{"key":"k","data":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const imported = await send('/memory/import?user_id=u', 'application/x-ndjson', line);
    expect([imported.status, imported.body.line, imported.body.error.message]).toEqual([400, 2, 'line 2: not valid UTF-8']);
    expect((await c.retrieve('u', 'k')).status).toBe(404);
  });

  it('an append path is bounded by the body depth limit, and an append never leaves data deeper than a store accepts', async () => {
    const c = client(m(), await newKey(m()));
    const path = (n: number) => '/a'.repeat(n);
    for (const n of [5000, 1000, 65]) {
      const r = await c.append({ user_id: 'u', key: `p${n}`, path: path(n), items: [1] });
      expect([n, r.status, r.body.error?.message]).toEqual([n, 400, 'path must have at most 64 segments (limits.maxDepth, the nesting limit of a JSON body)']);
    }
    // 62 objects and the array: data 63 levels deep, the most a store body (64 levels) can carry.
    expect((await c.append({ user_id: 'u', key: 'deep', path: path(62), items: [1] })).status).toBe(200);
    for (const [n, items] of [[63, [1]], [62, [[1]]], [30, [nested(33)]]] as const) {
      const r = await c.append({ user_id: 'u', key: `d${n}`, path: path(n), items });
      expect([n, r.status, r.body.error?.message]).toEqual([n, 400, "The result would be nested deeper than 63 levels, the most a memory's data may have"]);
    }
    expect((await c.store({ user_id: 'u', key: 'flat', data: nested(64) })).status).toBe(400);
    // Everything stored comes back through export and import.
    const exported = await c.exportText('u');
    const back = await c.importText('u2', exported.text);
    expect([back.status, back.body.imported]).toEqual([200, 1]);
    expect((await c.retrieve('u2', 'deep')).body.data).toEqual((await c.retrieve('u', 'deep')).body.data);
  });

  it('a JSON Patch cannot nest a memory past the limit, and its copies cannot grow it exponentially', async () => {
    const c = client(m(), await newKey(m()));
    expect((await c.store({ user_id: 'u', key: 'j', data: { a: nested(40) } })).status).toBe(200);
    const deeper = await c.patch({ user_id: 'u', key: 'j', operations: [{ op: 'add', path: `/a${'/0'.repeat(39)}/0`, value: nested(30) }] });
    expect([deeper.status, deeper.body.error.message]).toEqual([400, "The result would be nested deeper than 63 levels, the most a memory's data may have"]);
    // Each copy of the whole value into itself doubles it: 20 of them would make 1 GB of JSON.
    expect((await c.store({ user_id: 'u', key: 'c', data: { s: 'x'.repeat(1000) } })).status).toBe(200);
    const copies = Array.from({ length: 20 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
    const grown = await c.patch({ user_id: 'u', key: 'c', operations: copies });
    expect([grown.status, grown.body.error.code, grown.body.error.message]).toEqual([413, 'payload_too_large', expect.stringMatching(/^operation \d+ \(copy\): the copies of this patch would exceed 262144 bytes of JSON$/)]);
    expect((await c.retrieve('u', 'c')).body.data).toEqual({ s: 'x'.repeat(1000) });
  });

  it('import applies the TTL rules of store: no never-expiring line, no expiry past memory.maxTtlDays (the error names the line)', async () => {
    const c = client(m(), await newKey(m()));
    const never = /: null \(never expires\) is not allowed: memories expire within 3650 days on this server \(memory\.maxTtlDays\)$/;
    for (const [line, message] of [
      [{ key: 'n', data: 1, expires_at: null }, never],
      [{ key: 'n', data: 1, ttl_days: null }, never],
      [{ key: 'n', data: 1, expires_at: '9999-12-31T23:59:59Z' }, /^line 2: expires_at 9999-12-31T23:59:59\.000Z is more than 3650 days away \(memory\.maxTtlDays\)$/],
      [{ key: 'n', data: 1, ttl_days: 3651 }, /ttl_days must be greater than 0 and at most 3650/],
    ] as const) {
      const r = await c.importText('u', ndjson({ key: 'first', data: 0 }, line));
      expect([JSON.stringify(line), r.status, r.body.line, r.body.error.message]).toEqual([JSON.stringify(line), 400, 2, expect.stringMatching(message)]);
    }
    expect((await c.retrieve('u', 'n')).status).toBe(404);
    const ok = await c.importText('u', ndjson({ key: 'n', data: 1, expires_at: new Date(Date.now() + 3000 * 86_400_000).toISOString(), ttl_days: 3650 }));
    expect(ok.body).toMatchObject({ status: 'success', imported: 1 });
  });

  it('an import line is checked as a body: data nested as deep as a store refuses is refused', async () => {
    const c = client(m(), await newKey(m()));
    const r = await c.importText('u', ndjson({ key: 'ok', data: nested(63) }, { key: 'deep', data: nested(64) }));
    expect([r.status, r.body.line, r.body.error.message]).toEqual([400, 2, 'line 2: the line is nested deeper than 64 levels']);
    expect((await c.retrieve('u', 'ok')).status).toBe(200);
  });
});

describe('input limits under other options', () => {
  it('with defaultTtlDays null (a store keeps memories forever), import keeps never-expiring lines', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { freeCallsPerDay: 1000, memory: { defaultTtlDays: null } } });
    try {
      const c = client(m, await newKey(m));
      const r = await c.importText('u', ndjson({ key: 'a', data: 1, expires_at: null }, { key: 'b', data: 2, ttl_days: null }));
      expect(r.body).toMatchObject({ status: 'success', imported: 2 });
      expect((await c.retrieve('u', 'b')).body.expires_at).toBeNull();
    } finally {
      await m.close();
    }
  });

  it('limits.maxDepth 1000: a store as deep as that is stored and exported (JSON.stringify still copes)', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { freeCallsPerDay: 1000, limits: { maxDepth: 1000 } } });
    try {
      const c = client(m, await newKey(m));
      expect((await c.store({ user_id: 'u', key: 'deep', data: nested(999) })).status).toBe(200);
      expect((await c.importText('v', (await c.exportText('u')).text)).body).toMatchObject({ status: 'success', imported: 1 });
    } finally {
      await m.close();
    }
  });
});

describe('input limits of the memory service (any door)', () => {
  const LIMITS: MemoryLimits = { maxValueBytes: 1 << 20, compressAboveBytes: 1024, defaultTtlDays: 30, maxTtlDays: 100, historyVersions: 5, refreshOnRead: false, maxImportBytes: 1 << 20 };
  const T = { userId: 'u', key: 'k' };

  it('refuses, never throws, a merge patch or an append path deep enough to overflow a recursive walk', async () => {
    const memory = new MemoryService(new KeyvStore(new Keyv({ throwOnErrors: true })), LIMITS);
    let patch: unknown = 1;
    for (let i = 0; i < 100_000; i++) patch = { a: patch };
    const merged = await memory.mergePatch('acct', T, patch, undefined);
    expect(merged).toMatchObject({ ok: false, refusal: { code: 'invalid_request', message: expect.stringMatching(/nested deeper than 63 levels/) } });
    const appended = await memory.append('acct', T, { path: Array(5000).fill('a'), items: [1] });
    expect(appended).toMatchObject({ ok: false, refusal: { code: 'invalid_request' } });
    expect(await memory.get('acct', 'u', 'k', Date.now())).toBeNull();
  });

  it('checks what a batch of queued writes built even when a later one of the batch serialized it (an If-Match, an edit of the text)', async () => {
    const memory = new MemoryService(new KeyvStore(new Keyv({ throwOnErrors: true })), { ...LIMITS, maxDepth: 4 });
    await memory.put('acct', { ...T, data: { a: 1 } }, Date.now());
    // The first write is in flight; the next three queue and run as one batch: a patch, an append three
    // levels down (data may nest 3 levels: too deep with its array), then a patch whose If-Match needs the ETag.
    const [, , deep, conditional] = await Promise.all([
      memory.mergePatch('acct', T, { b: 1 }, undefined),
      memory.mergePatch('acct', T, { c: 1 }, undefined),
      memory.append('acct', T, { path: ['x', 'y', 'z'], items: [[1]] }),
      memory.mergePatch('acct', T, { d: 1 }, undefined, { ifMatch: ['"not-the-etag"'] }),
    ]);
    expect(deep).toMatchObject({ ok: false, refusal: { code: 'invalid_request', message: expect.stringMatching(/nested deeper than 3 levels/) } });
    expect(conditional).toMatchObject({ ok: false });
    // Nothing deeper than a store accepts was stored.
    const stored = JSON.parse((await memory.get('acct', 'u', 'k', Date.now()))!.json) as Record<string, unknown>;
    expect(stored.x).toBeUndefined();
  });

  it('restores a version written under other limits only as today\'s limits allow: too deep is refused, a TTL past the maximum takes the default', async () => {
    const store = new KeyvStore(new Keyv({ throwOnErrors: true }));
    const before = new MemoryService(store, { ...LIMITS, maxDepth: 200, maxTtlDays: 10_000 });
    const now = new MemoryService(store, LIMITS);
    await before.put('acct', { ...T, data: nested(150), ttlDays: 9000 }, Date.now());
    await before.put('acct', { ...T, data: 'flat', ttlDays: 9000 }, Date.now());
    await now.put('acct', { ...T, data: 'today' }, Date.now());
    expect(await now.restore('acct', T, 1, Date.now())).toMatchObject({ ok: false, refusal: { code: 'invalid_request', message: expect.stringMatching(/^Version 1 is nested deeper than 63 levels/) } });
    const restored = await now.restore('acct', T, 2, Date.now());
    expect(restored).toMatchObject({ ok: true, meta: { ttlMs: 30 * 86_400_000 } });
  });
});
