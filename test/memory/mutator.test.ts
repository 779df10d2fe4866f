// The per-key queue and CAS loop: batching while a write is in flight, delete never folded with others,
// an oversized batch judged entry by entry, and a bounded number of attempts under endless contention.
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { MemoryService, type MemoryLimits } from '../../src/memory/memory-service.js';
import { History } from '../../src/memory/history.js';
import { appendMutation } from '../../src/memory/mutations.js';
import { Mutator } from '../../src/memory/mutator.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { faultyStore, newFaults } from '../support/faulty-store.js';

const LIMITS: MemoryLimits = {
  maxValueBytes: 1 << 20, compressAboveBytes: 1024, defaultTtlDays: 30, maxTtlDays: 3650, historyVersions: 10, refreshOnRead: false, maxImportBytes: 1 << 20,
};
const T = { userId: 'u', key: 'k' };

/** A service whose memory writes wait at a gate we open, so that calls pile up behind one in flight. */
function gated(limits: Partial<MemoryLimits> = {}) {
  const faults = newFaults();
  let open!: () => void;
  faults.putGate = new Promise<void>((r) => (open = r));
  const memory = new MemoryService(faultyStore(faults, new KeyvStore(new Keyv({ throwOnErrors: true }))), { ...LIMITS, ...limits });
  return { memory, faults, open: () => { faults.putGate = undefined; open(); } };
}
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('the memory mutator', () => {
  it('folds the appends that arrive during a write into the next one, in arrival order', async () => {
    const { memory, open } = gated();
    const first = memory.append('acct', T, { path: [], items: [0] });
    await tick();
    const rest = Array.from({ length: 20 }, (_, i) => memory.append('acct', T, { path: [], items: [i + 1] }));
    open();
    const outs = await Promise.all([first, ...rest]);
    expect(outs.every((o) => o.ok)).toBe(true);
    expect(outs.map((o) => o.ok && o.meta.version)).toEqual([1, ...Array(20).fill(2)]);
    expect(outs.map((o) => o.ok && o.facts.length)).toEqual([1, ...Array(20).fill(21)]);
    expect(JSON.parse((await memory.get('acct', 'u', 'k', Date.now()))!.json)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect((await memory.versions('acct', 'u', 'k', Date.now())).map((v) => [v.version, v.operation])).toEqual([[2, 'append'], [1, 'append']]);
  });

  it('never folds a conditional delete with what follows: the re-created key keeps its history', async () => {
    const { memory, open } = gated();
    const first = memory.append('acct', T, { path: [], items: [1] });
    await tick();
    const del = memory.delete('acct', 'u', 'k', Date.now(), { ifMatch: '*' });
    const again = memory.append('acct', T, { path: [], items: [2] });
    open();
    expect((await first).ok).toBe(true);
    expect(await del).toEqual({ ok: true, deleted: true, deletedVersions: 1 });
    expect(await again).toMatchObject({ ok: true, meta: { version: 1 } });
    expect((await memory.versions('acct', 'u', 'k', Date.now())).map((v) => v.version)).toEqual([1]);
  });

  it('tells a refused entry the state after its batch, the one a retry is compared with', async () => {
    const { memory, open } = gated();
    const first = memory.append('acct', T, { path: [], items: [1] });
    await tick();
    const other = memory.append('acct', T, { path: [], items: [2] });
    const stale = memory.append('acct', T, { path: [], items: [3], precondition: { ifMatch: ['"not-it"'] } });
    open();
    await first;
    const [ok, refused] = await Promise.all([other, stale]);
    expect(refused).toMatchObject({ ok: false, refusal: { code: 'precondition_failed' }, current: { version: 2, etag: ok.ok && ok.meta.etag } });
  });

  it('judges an oversized batch entry by entry: only the append that overflows is refused', async () => {
    const { memory, open } = gated({ maxValueBytes: 100 });
    const first = memory.append('acct', T, { path: [], items: ['a'] });
    await tick();
    const small = memory.append('acct', T, { path: [], items: ['b'] });
    const huge = memory.append('acct', T, { path: [], items: ['x'.repeat(200)] });
    const after = memory.append('acct', T, { path: [], items: ['c'] });
    open();
    const outs = await Promise.all([first, small, huge, after]);
    expect(outs.map((o) => (o.ok ? 'ok' : o.refusal.code))).toEqual(['ok', 'ok', 'payload_too_large', 'ok']);
    expect(JSON.parse((await memory.get('acct', 'u', 'k', Date.now()))!.json)).toEqual(['a', 'b', 'c']);
  });

  it('gives up after its attempts when another writer always wins, with a 503 refusal and nothing written', async () => {
    const inner = new KeyvStore(new Keyv({ throwOnErrors: true }));
    // A rival writes the key right after every read of ours: our compare-and-set can never succeed.
    const rival: Store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<unknown>;
        if (prop !== 'get') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<Store['get']>) => {
          const found = await inner.get(...args);
          await inner.put(args[0], args[1], args[2], { value: new TextEncoder().encode('["rival"]'), size: 9, tag: '"r"', expiresAt: null }, Date.now());
          return found;
        };
      },
    });
    const mutator = new Mutator(rival, new History(rival, 0, console), { maxValueBytes: 1000, maxDepth: 63, compressAboveBytes: 1000, defaultTtlMs: null, maxAttempts: 4 });
    const out = await mutator.run({ accountId: 'acct', ...T }, appendMutation({ path: [], items: [1] }));
    expect(out).toMatchObject({ ok: false, refusal: { code: 'store_unavailable' } });
    expect(new TextDecoder().decode((await inner.get('acct', 'm:u', 'k', Date.now()))!.value)).toBe('["rival"]');
  });
});
