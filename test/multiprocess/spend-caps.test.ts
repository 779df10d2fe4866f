// 8 processes charging one account under an account-level spend cap that allows exactly 50 paid calls: exactly 50
// succeed, the balance is exact, and the cap's `spend_cap.reached` event is written once. Parameterised by backend
// (each backend with StoreInfo.outbox); the store is driven directly (the cap is counted in the charge itself).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';

const PROCESSES = 8;
const CALLS = 20; // per process: 160 in all against a cap of 50
const PRICE = 1000;
const ALLOWED = 50;
const BALANCE = 1_000_000;

/** Runs the workers together; returns each one's {ok, capped}. */
async function runWorkers(env: Record<string, string>): Promise<Array<{ ok: number; capped: number }>> {
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'test/multiprocess/spend-cap-worker.ts'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  for (const it of lines) expect((await it.next()).value).toBe('ready');
  for (const c of children) c.stdin!.end('go\n');
  const out: Array<{ ok: number; capped: number }> = [];
  for (const it of lines) out.push(JSON.parse((await it.next()).value as string) as { ok: number; capped: number });
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  return out;
}

// SQLite: the lead adds it.
const backends: Array<[string, () => Promise<string | null>]> = [['redis', redisUrlOrSkip], ['postgres', postgresUrlOrSkip]];

describe.each(backends)('spend caps across processes on %s', (_name, locate) => {
  it(`${PROCESSES} processes x ${CALLS} paid calls under a cap of ${ALLOWED} calls: exactly ${ALLOWED} succeed, one spend_cap.reached`, async (ctx) => {
    const url = await locate();
    if (!url) return ctx.skip();
    const prefix = `apgcap_${randomUUID().slice(0, 8)}_`;
    const account = `acct_cap${randomUUID().slice(0, 8)}`;
    const store = await openStore(url, { timeoutMs: 60_000, prefix });
    await store.init();
    try {
      // Both stores count caps in their charge: a store that stopped doing so must fail here, not skip.
      expect(store.info.outbox).toBe(true);
      await store.post(account, { amount: BALANCE, kind: 'grant' }, Date.now());
      const cap = { counter: 'cap:d:mp:a', limit: ALLOWED * PRICE, expiresAt: Date.now() + 3_600_000, eventId: `evt_cap_${randomUUID().slice(0, 8)}` };
      const counts = await runWorkers({ STORE_URL: url, PREFIX: prefix, ACCOUNT: account, CALLS: String(CALLS), PRICE: String(PRICE), CAP: JSON.stringify(cap) });
      expect(counts.reduce((n, c) => n + c.ok, 0)).toBe(ALLOWED);
      expect(counts.reduce((n, c) => n + c.capped, 0)).toBe(PROCESSES * CALLS - ALLOWED);
      expect(await store.balance(account, Date.now())).toBe(BALANCE - ALLOWED * PRICE);
      expect(await store.counter(account, cap.counter, Date.now())).toBe(ALLOWED * PRICE);
      expect((await store.ledger(account, { limit: 1000 })).filter((e) => e.kind === 'debit')).toHaveLength(ALLOWED);
      const rows = (await store.outbox!.list({ limit: 1000 })).filter((d) => d.account === account);
      expect(rows.map((d) => [d.type, d.eventId, d.status, d.balance])).toEqual([['spend_cap.reached', cap.eventId, 'pending', BALANCE - ALLOWED * PRICE]]);
    } finally {
      await dropPrefix(url, prefix, store);
    }
  }, 120_000);
});
