// Sliding TTL (refresh_on_read), and how many store round trips each memory operation costs.
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { MemoryService, type MemoryLimits } from '../../src/memory/memory-service.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { faultyStore, newFaults } from '../support/faulty-store.js';
import { describeMounts } from '../support/mounts.js';
import { client, newKey, sleep } from './support.js';

const TWO_SECONDS = 2 / 86_400;

describeMounts('sliding TTL, per request', () => ({ freeCallsPerDay: 1_000_000 }), (m) => {
  it('refresh_on_read=true pushes expires_at forward by the TTL the memory was stored with', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 'k', data: 1, ttl_days: TWO_SECONDS });
    await sleep(1200);
    const plain = await c.retrieve('u', 'k');
    expect([plain.body.expires_at, plain.body.version]).toEqual([s.body.expires_at, 1]);
    const refreshed = await c.retrieve('u', 'k', undefined, { refresh_on_read: 'true' });
    expect(Date.parse(refreshed.body.expires_at)).toBeGreaterThan(Date.parse(s.body.expires_at));
    expect(Date.parse(refreshed.body.expires_at) - Date.now()).toBeGreaterThan(1000);
    // A refresh is a write of the same bytes: version +1, same ETag.
    expect([refreshed.body.version, refreshed.body.etag]).toEqual([2, s.body.etag]);
    await sleep(1200); // past the original expiry, within the renewed one
    expect((await c.retrieve('u', 'k')).status).toBe(200);
    expect((await c.retrieve('u', 'k', undefined, { refresh_on_read: 'maybe' })).status).toBe(400);
  });
});

describeMounts('sliding TTL, by option', () => ({ freeCallsPerDay: 1_000_000, memory: { refreshOnRead: true } }), (m) => {
  it('memory.refreshOnRead refreshes every read unless the request says refresh_on_read=false', async () => {
    const c = client(m(), await newKey(m()));
    const s = await c.store({ user_id: 'u', key: 'k', data: 1, ttl_days: TWO_SECONDS });
    await sleep(1100);
    const off = await c.retrieve('u', 'k', undefined, { refresh_on_read: 'false' });
    expect(off.body.expires_at).toBe(s.body.expires_at);
    const on = await c.retrieve('u', 'k');
    expect(Date.parse(on.body.expires_at)).toBeGreaterThan(Date.parse(s.body.expires_at));
    // The history is not filled by reads.
    expect((await c.history('u', 'k')).body.versions).toHaveLength(1);
  });
});

describe('store round trips per memory operation', () => {
  const limits = (over: Partial<MemoryLimits> = {}): MemoryLimits => ({
    maxValueBytes: 1 << 20, compressAboveBytes: 1024, defaultTtlDays: 30, maxTtlDays: 3650, historyVersions: 10, refreshOnRead: false, maxImportBytes: 1 << 20, ...over,
  });
  const setup = (over?: Partial<MemoryLimits>) => {
    const faults = newFaults();
    const memory = new MemoryService(faultyStore(faults, new KeyvStore(new Keyv({ throwOnErrors: true }))), limits(over));
    const delta = async (fn: () => Promise<unknown>) => {
      const before = { ...faults.calls };
      await fn();
      return Object.fromEntries(Object.entries(faults.calls).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
    };
    return { memory, delta };
  };

  it('retrieve is one get; a refreshing retrieve adds one put', async () => {
    const { memory, delta } = setup();
    await memory.put('acct', { userId: 'u', key: 'k', data: { a: 1 } }, Date.now());
    expect(await delta(() => memory.get('acct', 'u', 'k', Date.now()))).toEqual({ get: 1 });
    expect(await delta(() => memory.get('acct', 'u', 'k', Date.now(), true))).toEqual({ get: 1, put: 1 });
  });

  it('store is one put without history; with history, one more put, and a list + delete once N versions exist', async () => {
    const off = setup({ historyVersions: 0 });
    expect(await off.delta(() => off.memory.put('acct', { userId: 'u', key: 'k', data: 1 }, Date.now()))).toEqual({ put: 1 });
    const on = setup({ historyVersions: 2 });
    for (let i = 0; i < 2; i++) expect(await on.delta(() => on.memory.put('acct', { userId: 'u', key: 'k', data: i }, Date.now()))).toEqual({ put: 2 });
    expect(await on.delta(() => on.memory.put('acct', { userId: 'u', key: 'k', data: 9 }, Date.now()))).toEqual({ put: 2, list: 1, delete: 1 });
    expect((await on.memory.versions('acct', 'u', 'k', Date.now())).map((v) => v.version)).toEqual([3, 2]);
  });

  it('an append is one get and one put (plus the history put)', async () => {
    const { memory, delta } = setup();
    expect(await delta(() => memory.append('acct', { userId: 'u', key: 'k' }, { path: [], items: [1] }))).toEqual({ get: 1, put: 2 });
  });
});
