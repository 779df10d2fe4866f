// Unit: what the usage recorder puts on each money operation (bucket, expiry, key id once a minute) and the activity index it keeps.
import { describe, expect, it } from 'vitest';
import { Meter } from '../../src/meter/meter.js';
import { REGISTRY_ACCOUNT, UsageRecorder } from '../../src/meter/usage.js';
import type { Store } from '../../src/storage/contract.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { VoidQueue } from '../../src/storage/void-queue.js';

const HOUR = 3_600_000;
const logger = { warn: () => {}, error: () => {} };

describe('UsageRecorder', () => {
  it('gives the hour bucket and its expiry (end of the hour + retention); nothing for a store that does not count usage', () => {
    const store = new MemoryStore();
    const r = new UsageRecorder(store, { retentionDays: 2 });
    const at = Date.parse('2026-12-06T13:59:59.999Z');
    expect(r.input(at)).toEqual({ bucket: '2026-12-06T13', expiresAt: Date.parse('2026-12-06T14:00:00Z') + 2 * 24 * HOUR });
    expect(r.input(at + 1, undefined, { x: 1 })).toEqual({ bucket: '2026-12-06T14', expiresAt: Date.parse('2026-12-06T15:00:00Z') + 2 * 24 * HOUR, add: { x: 1 } });
    const older = { ...store, info: { ...store.info, usage: undefined } } as unknown as Store;
    expect(new UsageRecorder(older, { retentionDays: 2 }).input(at, 'key_1')).toBeUndefined();
  });

  it("sends a key's use with a charge at most once a minute per process, and only once a charge carrying it was taken", async () => {
    const store = new MemoryStore();
    const usage = new UsageRecorder(store, { retentionDays: 1 });
    const meter = new Meter(store, 1, new VoidQueue(store, logger), {}, usage);
    const t = Date.now();
    expect(usage.input(t, 'key_1')?.keyId).toBe('key_1');
    // A charge whose key check fails marks nothing: the next one still carries the key.
    const forged = { collection: 'keys', key: 'key_1', tag: 'active', hash: new Uint8Array(32) };
    expect(await meter.charge('acct_a', 100, t, 'm', forged)).toEqual({ ok: false, unauthorized: true });
    expect(usage.input(t, 'key_1')?.keyId).toBe('key_1');
    expect(await meter.charge('acct_a', 100, t, 'm', undefined, 'key_1')).toMatchObject({ ok: true });
    expect(await store.lastUsed('acct_a')).toEqual({ key_1: t });
    expect(usage.input(t + 59_999, 'key_1')?.keyId).toBeUndefined();
    expect(usage.input(t + 60_000, 'key_1')?.keyId).toBe('key_1');
    expect(usage.input(t, 'key_2')?.keyId).toBe('key_2');
  });

  it('notes an account in the activity index once a day per process; a failed write is tried again on the next call', async () => {
    const store = new MemoryStore();
    let failPuts = 1;
    let puts = 0;
    const flaky = new Proxy(store, {
      get: (target, prop) => {
        const v = Reflect.get(target, prop) as unknown;
        if (prop !== 'put') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: Parameters<Store['put']>) => {
          puts++;
          if (failPuts-- > 0) throw new Error('store down');
          return store.put(...args);
        };
      },
    }) as Store;
    const usage = new UsageRecorder(flaky, { retentionDays: 1 });
    const day = Date.parse('2026-12-06T10:00:00Z');
    usage.active('acct_a', day);
    await new Promise((r) => setTimeout(r, 0));
    usage.active('acct_a', day + 1);
    usage.active('acct_a', day + 2);
    usage.active('acct_a', day + 24 * HOUR);
    await new Promise((r) => setTimeout(r, 0));
    expect(puts).toBe(3);
    const listed = async (d: string) => (await store.list(REGISTRY_ACCOUNT, `active:${d}`, { limit: 10 }, day)).map((x) => x.key);
    expect(await listed('2026-12-06')).toEqual(['acct_a']);
    expect(await listed('2026-12-07')).toEqual(['acct_a']);
  });
});
