// The void queue: voids the store did not take are retried until they land, given up before their id expires, flushed by close().
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store, VoidInput } from '../../src/storage/contract.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { VoidQueue } from '../../src/storage/void-queue.js';

/** A real in-memory store whose `void` fails while `down` is true. */
function flaky(): { store: Store; down: { value: boolean }; attempts: () => number } {
  const inner = new MemoryStore();
  const down = { value: true };
  let attempts = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'void' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: unknown[]) => {
        attempts++;
        if (down.value) throw new StoreUnavailableError(new Error('down'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  return { store, down, attempts: () => attempts };
}

const logs: string[] = [];
const log = { warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
/** The fault of a call whose answer was lost: it may have committed, so it is voided. */
const LOST = new StoreUnavailableError(new Error('lost'));
const input = (id: string, untilMs = 60_000): VoidInput => ({ id, window: 'w', until: Date.now() + untilMs });

describe('VoidQueue', () => {
  it('retries with backoff until the store takes the void, then forgets it', async () => {
    const { store, down, attempts } = flaky();
    const q = new VoidQueue(store, log);
    await store.post('a', { amount: 100, kind: 'grant' }, Date.now());
    await store.charge('a', { window: 'w', windowExpiresAt: Date.now() + 60_000, freeLimit: 0, price: 40, voidable: { id: 'c1', until: Date.now() + 60_000 } }, Date.now());
    q.defer('a', input('c1'), new StoreUnavailableError(new Error('lost')));
    await expect.poll(attempts).toBeGreaterThan(3);
    expect(q.size).toBe(1);
    down.value = false;
    await expect.poll(() => q.size, { timeout: 10_000 }).toBe(0);
    expect(await store.balance('a', Date.now())).toBe(100);
    await q.close(1000);
  });

  it('close() flushes what waits once the store answers, and logs what it could not land', async () => {
    const { store, down } = flaky();
    const q = new VoidQueue(store, log);
    q.defer('a', input('c2'), LOST);
    q.defer('a', input('c2'), LOST); // the same void twice is one job
    expect(q.size).toBe(1);
    setTimeout(() => (down.value = false), 200);
    await q.close(5000);
    expect(q.size).toBe(0);
    expect(logs.filter((l) => l.includes('VOID FAILED'))).toEqual([]);

    const still = flaky();
    const q2 = new VoidQueue(still.store, log);
    q2.defer('b', input('c3'), LOST);
    await q2.close(300);
    expect(logs.filter((l) => l.includes('VOID FAILED')).length).toBe(1);
    // After close, nothing waits in the background: a new void is logged as failed at once.
    q2.defer('b', input('c4'), LOST);
    expect(q2.size).toBe(0);
    expect(logs.filter((l) => l.includes('VOID FAILED')).length).toBe(2);
  });

  it('gives up shortly before the id expires, loudly, since the store would no longer know the charge', async () => {
    const { store } = flaky();
    const q = new VoidQueue(store, log);
    const before = logs.filter((l) => l.includes('VOID FAILED')).length;
    q.defer('a', input('c5', 500), LOST);
    await expect.poll(() => q.size, { timeout: 5000 }).toBe(0);
    expect(logs.filter((l) => l.includes('VOID FAILED')).length).toBe(before + 1);
    await q.close(0);
  });

  it('queues nothing for a fault raised before the call reached the store (not open yet, a bug): it took nothing', async () => {
    const { store, attempts } = flaky();
    const quiet: string[] = [];
    const q = new VoidQueue(store, { warn: (m: string) => void quiet.push(m), error: (m: string) => void quiet.push(m) });
    q.defer('a', input('n1'), new StoreUnavailableError(undefined, false));
    q.defer('a', input('n2'), new RangeError('redis store: amount must be a safe integer'));
    expect(q.size).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts()).toBe(0);
    expect(quiet).toEqual([]);
    q.defer('a', input('n3'), LOST);
    expect(q.size).toBe(1);
    q.abandon();
  });
});
