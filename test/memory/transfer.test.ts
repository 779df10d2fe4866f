// Export and import as NDJSON on every mount: a lossless round trip, streamed, with precise refusals.
import { Keyv } from 'keyv';
import { describe, expect, it, vi } from 'vitest';
import { MemoryService } from '../../src/memory/memory-service.js';
import { importNdjson, type ImportDeps } from '../../src/memory/transfer.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { faultyStore, newFaults } from '../support/faulty-store.js';
import { describeMounts } from '../support/mounts.js';
import { client, newKey, ODD_KEYS } from './support.js';

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describeMounts('memory export and import', () => ({ freeCallsPerDay: 1_000_000, limits: { maxValueBytes: 8192 }, memory: { maxImportBytes: 64 * 1024 } }), (m) => {
  it('round-trips values, keys with odd characters, expiry and TTL exactly', async () => {
    const c = client(m(), await newKey(m()));
    const stored = new Map<string, unknown>();
    for (const [i, k] of ODD_KEYS.entries()) {
      const data = { i, k, nested: { arr: [1, 'two', null, true, 1.5e-7] }, __proto__: null, uni: '\u2028\u00e9' };
      stored.set(k, JSON.parse(JSON.stringify(data)));
      expect((await c.store({ user_id: 'src', key: k, data, ttl_days: i + 0.5 })).status).toBe(200);
    }
    await c.store({ user_id: 'src', key: 'never', data: 'x' });
    const exported = await c.exportText('src');
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/x-ndjson/);
    const rows = lines(exported.text);
    expect(rows.map((r) => r.key)).toEqual([...ODD_KEYS, 'never'].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(Object.keys(rows[0]!)).toEqual(['key', 'data', 'version', 'etag', 'size', 'created_at', 'updated_at', 'expires_at', 'ttl_days']);

    const imported = await c.importText('dst', exported.text);
    expect(imported.body).toEqual({ status: 'success', user_id: 'dst', lines: ODD_KEYS.length + 1, imported: ODD_KEYS.length + 1, skipped: 0, expired: 0 });
    const again = lines((await c.exportText('dst')).text);
    const strip = (r: Record<string, any>) => ({ key: r.key, data: r.data, etag: r.etag, size: r.size, expires_at: r.expires_at, ttl_days: r.ttl_days });
    expect(again.map(strip)).toEqual(rows.map(strip));
    for (const k of ODD_KEYS) expect((await c.retrieve('dst', k)).body.data).toEqual(stored.get(k));
  });

  it('skip_existing keeps what is there; expired lines are counted, not written', async () => {
    const c = client(m(), await newKey(m()));
    await c.store({ user_id: 'u', key: 'a', data: 'mine' });
    const in100Days = new Date(Date.now() + 100 * 86_400_000).toISOString().slice(0, 19) + 'Z';
    const body = [
      JSON.stringify({ key: 'a', data: 'theirs' }),
      JSON.stringify({ key: 'b', data: 2, expires_at: '2001-01-01T00:00:00Z' }),
      JSON.stringify({ key: 'c', data: 3, expires_at: in100Days }),
      '',
      JSON.stringify({ key: 'd', data: 4, ttl_days: 1 }),
    ].join('\r\n');
    const r = await c.importText('u', body, 'application/x-ndjson', { skip_existing: 'true' });
    expect(r.body).toMatchObject({ lines: 4, imported: 2, skipped: 1, expired: 1 });
    expect((await c.retrieve('u', 'a')).body.data).toBe('mine');
    expect((await c.retrieve('u', 'b')).status).toBe(404);
    expect((await c.retrieve('u', 'c')).body.expires_at).toBe(in100Days);
    expect((await c.history('u', 'd')).body.versions[0].operation).toBe('import');
  });

  it('stops at the first bad line with a 400 naming it; earlier lines stay imported', async () => {
    const c = client(m(), await newKey(m()));
    const body = `${JSON.stringify({ key: 'ok', data: 1 })}\n{"key":"bad"\n${JSON.stringify({ key: 'later', data: 3 })}\n`;
    const r = await c.importText('u', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 'error', error: { code: 'invalid_request', message: expect.stringMatching(/^line 2: not JSON/) }, line: 2, imported: 1 });
    for (const [line, message] of [['{"data":1}', /line 1: key/], ['[1]', /line 1: each line must be a JSON object/], ['{"key":"k"}', /data is required/], ['{"key":"k","data":1,"ttl_days":-1}', /ttl_days/], ['{"key":"k","data":1,"expires_at":"soon"}', /expires_at/], ['{"key":"a\\u0000b","data":1}', /control characters/]] as const) {
      const bad = await c.importText('v', line);
      expect([line, bad.status, bad.body.error.message]).toEqual([line, 400, expect.stringMatching(message)]);
    }
  });

  it('answers 415 to another content type, 413 above the import limit or the value limit', async () => {
    const c = client(m(), await newKey(m()));
    const r = await c.importText('u', '{"key":"a","data":1}', 'application/json');
    expect([r.status, r.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const big = Array.from({ length: 200 }, (_, i) => JSON.stringify({ key: `k${i}`, data: 'x'.repeat(400) })).join('\n');
    const tooBig = await c.importText('u', big);
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'payload_too_large']);
    const value = await c.importText('u', JSON.stringify({ key: 'v', data: 'x'.repeat(9000) }));
    expect([value.status, value.body.line]).toEqual([413, 1]);
    // The connection is still usable after a refused body.
    expect((await c.list('u')).status).toBe(200);
  });

  it('exports nothing for an unknown user, and an empty import is fine', async () => {
    const c = client(m(), await newKey(m()));
    expect((await c.exportText('nobody')).text).toBe('');
    expect((await c.importText('nobody', '')).body).toMatchObject({ status: 'success', lines: 0, imported: 0 });
  });
});

describe('export streams page by page', () => {
  it('reads one page of the store per chunk the client pulls, never all of them first', async () => {
    const faults = newFaults();
    const store = faultyStore(faults, new KeyvStore(new Keyv({ throwOnErrors: true })));
    const memory = new MemoryService(store, {
      maxValueBytes: 1 << 20, compressAboveBytes: 1024, defaultTtlDays: 30, maxTtlDays: 3650, historyVersions: 0, refreshOnRead: false, maxImportBytes: 1 << 20,
    });
    for (let i = 0; i < 1000; i++) await memory.put('acct', { userId: 'u', key: `k${String(i).padStart(4, '0')}`, data: { i } }, Date.now());
    const lists = () => faults.calls.list ?? 0;
    const it = memory.exportUser('acct', 'u', Date.now());
    const first = await it.next();
    expect(first.value!.split('\n').filter(Boolean)).toHaveLength(200);
    expect(lists()).toBe(1);
    await it.next();
    expect(lists()).toBe(2);
    let rest = 0;
    // An in-memory store answers in microtasks: the export must still let the event loop turn between pages.
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    for await (const chunk of it) rest += chunk.split('\n').filter(Boolean).length;
    clearInterval(ticker);
    expect(rest).toBe(600);
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});

describe('import reads its body in time linear in it, and shares the event loop', () => {
  const deps = (write: ImportDeps['write']): ImportDeps => ({ maxLineBytes: 1 << 20, concurrency: 4, parse: (line) => ({ key: 'k', text: line }), write });

  it('joins the pieces of a line dribbled in small chunks once, not again at every chunk (quadratic)', async () => {
    const line = Buffer.from(`${JSON.stringify({ key: 'k', data: 'x'.repeat(100_000) })}\n`);
    async function* dribble() {
      for (let i = 0; i < line.length; i += 100) yield line.subarray(i, i + 100);
    }
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      expect(await importNdjson(dribble(), deps(async () => 'imported'))).toMatchObject({ ok: true, imported: 1 });
      const copied = concat.mock.calls.reduce((n, [list]) => n + list.reduce((m, b) => m + b.length, 0), 0);
      expect(copied).toBeLessThanOrEqual(2 * line.length);
    } finally {
      concat.mockRestore();
    }
  });

  it('lets the event loop turn while a store answering in microtasks takes one large chunk of lines', async () => {
    const body = Buffer.from(Array.from({ length: 200 }, (_, i) => JSON.stringify({ key: `k${i}` })).join('\n'));
    const busy = () => {
      for (const until = performance.now() + 1; performance.now() < until; );
    };
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const out = await importNdjson((async function* () {
      yield body;
    })(), deps(async () => (busy(), 'imported')));
    clearInterval(ticker);
    expect(out).toMatchObject({ ok: true, imported: 200 });
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
