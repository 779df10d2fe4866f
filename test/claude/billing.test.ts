// Unit tests of Claude billing on a real in-memory store: hold, settle, expiry, retries that must not charge twice.
import { Keyv } from 'keyv';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClaudeBilling } from '../../src/claude/billing.js';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
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
});
