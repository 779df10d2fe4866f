// Unit tests of Claude billing on a real in-memory store: hold, settle, expiry, retries that must not charge twice.
import { Keyv } from 'keyv';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClaudeBilling } from '../../src/claude/billing.js';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { UsageRecorder } from '../../src/meter/usage.js';
import { usageBucket } from '../../src/storage/usage.js';
import { VoidQueue } from '../../src/storage/void-queue.js';

const logs: string[] = [];
const logger = { warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
let store: KeyvStore;

beforeEach(async () => {
  logs.length = 0;
  store = new KeyvStore(new Keyv({ throwOnErrors: true }));
  await store.init();
  await store.post('acct', { amount: 10_000, kind: 'grant' }, Date.now());
});

describe('ClaudeBilling', () => {
  it('holds the worst case plus one, then settles the actual cost in one entry that carries the memo', async () => {
    const billing = new ClaudeBilling(store, new VoidQueue(store, logger), logger, 60_000);
    const r = await billing.reserve('acct', 4_000, Date.now(), 'claude m hold');
    expect(r).toMatchObject({ ok: true, amount: 4_001, balance: 5_999 });
    expect(await billing.settle('acct', (r as { holdId: string }).holdId, 4_000, 'claude m request=req_1')).toEqual({ charged: 4_000, balance: 6_000 });
    const [settle, hold] = await store.ledger('acct', { limit: 2 });
    expect(settle).toMatchObject({ kind: 'settle', amount: 1, memo: 'claude m request=req_1' });
    expect(hold).toMatchObject({ kind: 'hold', amount: -4_001 });
    expect(await billing.reserve('acct', 6_000, Date.now(), 'm')).toEqual({ ok: false, balance: 6_000 });
  });

  it('debits the cost when the hold expired before the call ended', async () => {
    const billing = new ClaudeBilling(store, new VoidQueue(store, logger), logger, 20);
    const r = await billing.reserve('acct', 4_000, Date.now(), 'm');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await billing.settle('acct', (r as { holdId: string }).holdId, 300, 'late')).toEqual({ charged: 300, balance: 9_700 });
    expect((await store.ledger('acct', { limit: 1 }))[0]).toMatchObject({ kind: 'debit', amount: -300, memo: 'late (hold expired)' });
  });

  it('retries a settle whose answer was lost without charging twice', async () => {
    let lose = 1;
    // The first settle goes through, then "fails" as a timed-out round trip would.
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'settle' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => unknown).apply(target, args);
          if (lose-- > 0) throw new Error('timeout after the write');
          return out;
        };
      },
    }) as Store;
    const billing = new ClaudeBilling(flaky, new VoidQueue(flaky, logger), logger, 60_000);
    const r = await billing.reserve('acct', 1_000, Date.now(), 'm');
    expect(await billing.settle('acct', (r as { holdId: string }).holdId, 700, 'x')).toMatchObject({ charged: 700 });
    expect(await store.balance('acct', Date.now())).toBe(9_300);
    expect(logs.some((l) => l.includes('found its hold gone'))).toBe(true);
  });

  it('counts each settled call once in the usage: spend and tokens by model, also when the settle is retried or the hold expired', async () => {
    let lose = 1;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'settle' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => unknown).apply(target, args);
          if (lose-- > 0) throw new Error('timeout after the write');
          return out;
        };
      },
    }) as Store;
    const billing = new ClaudeBilling(flaky, new VoidQueue(flaky, logger), logger, 60_000, new UsageRecorder(flaky, { retentionDays: 1 }));
    const usage = { input: 100, output: 20, cacheRead: 5, cacheWrite5m: 1, cacheWrite1h: 2, webSearches: 0 };
    const r = await billing.reserve('acct', 1_000, Date.now(), 'm');
    expect(await billing.settle('acct', (r as { holdId: string }).holdId, 700, 'x', { model: 'claude-x', usage })).toMatchObject({ charged: 700 });
    const short = new ClaudeBilling(store, new VoidQueue(store, logger), logger, 20, new UsageRecorder(store, { retentionDays: 1 }));
    const late = await short.reserve('acct', 1_000, Date.now(), 'm');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await short.settle('acct', (late as { holdId: string }).holdId, 300, 'late', { model: 'claude-y', usage })).toEqual({ charged: 300, balance: 9_000 });
    // Summed over the last two hours (the test may cross an hour boundary).
    const sum: Record<string, number> = {};
    for (const h of await store.usage('acct', usageBucket(Date.now() - 3_600_000), usageBucket(Date.now()), Date.now())) {
      for (const [field, n] of Object.entries(h.fields)) sum[field] = (sum[field] ?? 0) + n;
    }
    expect(sum).toEqual({
      paid: 2, spent: 1_000,
      'tok:claude-x:input': 100, 'tok:claude-x:output': 20, 'tok:claude-x:cache_read': 5, 'tok:claude-x:cache_write': 3,
      'tok:claude-y:input': 100, 'tok:claude-y:output': 20, 'tok:claude-y:cache_read': 5, 'tok:claude-y:cache_write': 3,
    });
  });

  /** A store whose next hold "loses its answer": it throws at once, and the hold itself runs after `delayMs`. */
  function losingHold(delayMs: number): { store: Store; late: Promise<unknown> } {
    let late: Promise<unknown> = Promise.resolve();
    const wrapped = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'hold' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          late = new Promise((r) => setTimeout(r, delayMs)).then(() => (v as (...a: unknown[]) => unknown).apply(target, args));
          if (delayMs === 0) await late;
          // As a store's guard reports a timed-out or cut call: its answer is lost, whatever happened.
          throw new StoreUnavailableError(new Error('no answer from the store'));
        };
      },
    }) as Store;
    return { store: wrapped, get late() { return late; } };
  }

  it('a hold whose answer was lost after it was placed is released by id in the background', async () => {
    const { store: flaky } = losingHold(0);
    const billing = new ClaudeBilling(flaky, new VoidQueue(flaky, logger), logger, 60_000);
    await expect(billing.reserve('acct', 1_000, Date.now(), 'claude m hold')).rejects.toThrow(StoreUnavailableError);
    await expect.poll(() => store.balance('acct', Date.now())).toBe(10_000);
    const [release, hold] = await store.ledger('acct', { limit: 2 });
    const holdId = hold!.reference!.slice('hold:'.length);
    expect(hold).toMatchObject({ kind: 'hold', amount: -1_001 });
    expect(release).toMatchObject({ kind: 'release', amount: 1_001, reference: `hold:${holdId}`, memo: `void: claude m hold (answer lost) ${holdId}` });
    // Sent again under the same id (a retry, a late duplicate), the hold is refused.
    expect(await store.hold('acct', { holdId, amount: 1_001, expiresAt: Date.now() + 60_000 }, Date.now())).toEqual({ ok: false, reason: 'voided', balance: 10_000 });
  });

  it('a hold arriving after its void is refused: nothing is held', async () => {
    const lost = losingHold(200);
    const voids = new VoidQueue(lost.store, logger);
    const billing = new ClaudeBilling(lost.store, voids, logger, 60_000);
    await expect(billing.reserve('acct', 1_000, Date.now(), 'm')).rejects.toThrow(StoreUnavailableError);
    await expect.poll(() => voids.size).toBe(0); // the void landed first
    expect(await lost.late).toMatchObject({ ok: false, reason: 'voided' });
    expect(await store.balance('acct', Date.now())).toBe(10_000);
    expect((await store.ledger('acct', { limit: 5 })).map((e) => e.kind)).toEqual(['grant']);
  });
});
