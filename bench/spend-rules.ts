// Run: npx tsx bench/spend-rules.ts
// MoneyRules.forCall on the hot path: cached, no caps anywhere (what every metered call pays) and with a key cap.
import { MoneyRules } from '../src/meter/money-rules.js';
import { Notifier } from '../src/observe/webhooks/notifier.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { KeyService } from '../src/keys/key-service.js';
const store = new MemoryStore(); await store.init();
const keys = new KeyService(store);
const plain = await keys.create();
const capped = await keys.create({ dailySpendCapMicroUsd: 1_000_000 });
const rules = new MoneyRules(store, {}, new Notifier(undefined), true);
const N = 1_000_000;
const time = (k: { account_id: string; key_id: string }) => { const t = process.hrtime.bigint(); const now = Date.now(); for (let i = 0; i < N; i++) rules.forCall(k.account_id, k.key_id, now); return Number(process.hrtime.bigint() - t) / N; };
await rules.forCall(plain.account_id, plain.key_id, Date.now()); await rules.forCall(capped.account_id, capped.key_id, Date.now());
for (let r = 0; r < 4; r++) console.log(`round ${r}: no caps ${time(plain).toFixed(0)} ns, key cap ${time(capped).toFixed(0)} ns per call`);
