// The spend rules a paid call carries: read once per key per RULES_TTL_MS, never cached for a key that does not exist.
import { expect, it } from 'vitest';
import { KeyService } from '../../src/keys/key-service.js';
import { MoneyRules } from '../../src/meter/money-rules.js';
import { Notifier } from '../../src/observe/webhooks/notifier.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

it('reads a key and its account once per TTL; a forged key is read every time and cached never (no eviction of real keys by a flood)', async () => {
  const store = new MemoryStore();
  await store.init();
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (...args) => (reads++, get(...args));
  const keys = new KeyService(store);
  const real = await keys.create({ dailySpendCapMicroUsd: 500 });
  const rules = new MoneyRules(store, {}, new Notifier(undefined), true);
  const now = Date.now();
  const first = await rules.forCall(real.account_id, real.key_id, now);
  expect(first.applied.map((c) => [c.name, c.limit])).toEqual([['key_daily', 500]]);
  const afterFirst = reads;
  expect(afterFirst).toBe(2); // the key record and the account's catalog, in parallel
  // Cached: synchronous, no read.
  const again = rules.forCall(real.account_id, real.key_id, now + 1000);
  expect(again).not.toBeInstanceOf(Promise);
  expect(reads).toBe(afterFirst);
  // Forged key ids of the same account: read each time, never cached.
  for (let i = 0; i < 3; i++) await rules.forCall(real.account_id, 'key_forgedforgedforgedforged', now);
  expect(reads).toBe(afterFirst + 6);
  // Past the TTL the real key is read again; after `forget` at once.
  await rules.forCall(real.account_id, real.key_id, now + 10_001);
  expect(reads).toBe(afterFirst + 8);
  rules.forget(real.account_id);
  await rules.forCall(real.account_id, real.key_id, now + 10_002);
  expect(reads).toBe(afterFirst + 10);
});
