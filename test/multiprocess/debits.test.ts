// 4 processes x 500 concurrent debits against a balance of 1000: exact on Redis, Postgres and SQLite,
// while the naive Keyv get-then-set on the same servers overdraws (asserted: the reason the contract exists).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Keyv } from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';

const PROCESSES = 4;
const DEBITS = 500;
const BALANCE = 1000;

/** Runs the workers in parallel and returns how many debits each one got through. */
async function runWorkers(env: Record<string, string>): Promise<number[]> {
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'test/multiprocess/debit-worker.ts'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  for (const it of lines) expect((await it.next()).value).toBe('ready');
  for (const c of children) c.stdin!.end('go\n');
  const counts: number[] = [];
  for (const it of lines) counts.push((JSON.parse((await it.next()).value as string) as { ok: number }).ok);
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  return counts;
}

const tmp = mkdtempSync(join(tmpdir(), 'apg-mp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const backends: Array<[string, () => Promise<string | null>]> = [
  ['redis', redisUrlOrSkip],
  ['postgres', postgresUrlOrSkip],
  ['sqlite', async () => `sqlite://${join(tmp, 'mp.db')}`],
];

describe.each(backends)('multi-process exactness on %s', (name, locate) => {
  it(`${PROCESSES} processes x ${DEBITS} debits against ${BALANCE}: exactly ${BALANCE} succeed, balance 0`, async (ctx) => {
    const url = await locate();
    if (!url) return ctx.skip();
    const prefix = `apgmp_${randomUUID().slice(0, 8)}_`;
    const account = `acct_mp${randomUUID().slice(0, 8)}`;
    const store = await openStore(url, { timeoutMs: 60_000, prefix });
    await store.init();
    try {
      await store.post(account, { amount: BALANCE, kind: 'grant', reference: 'mp-grant' }, Date.now());
      const counts = await runWorkers({ STORE_URL: url, PREFIX: prefix, ACCOUNT: account, DEBITS: String(DEBITS), MODE: 'contract' });
      expect(counts.reduce((a, b) => a + b, 0)).toBe(BALANCE);
      expect(await store.balance(account, Date.now())).toBe(0);
      const entries = await store.ledger(account, { limit: 5000 });
      expect(entries.length).toBe(BALANCE + 1);
      expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
    } finally {
      await dropPrefix(url, prefix, store);
    }
  }, 120_000);

  it('the naive Keyv get-then-set on the same backend overdraws (why the contract exists)', async (ctx) => {
    const url = await locate();
    if (!url) return ctx.skip();
    const prefix = `apgnaive_${randomUUID().slice(0, 8)}`;
    const account = `acct_naive${randomUUID().slice(0, 8)}`;
    const { spawnSync } = await import('node:child_process');
    // Seed the balance with the same naive client the workers use.
    const seed = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const { Keyv } = await import('keyv');
      const url = ${JSON.stringify(url)};
      let adapter;
      if (url.startsWith('redis://')) adapter = new (await import('@keyv/redis')).default(url);
      else if (url.startsWith('postgres://')) adapter = new (await import('@keyv/postgres')).default({ uri: url, table: 'apg_naive_demo' });
      else adapter = new (await import('@keyv/sqlite')).default({ uri: url, table: 'apg_naive_demo' });
      const k = new Keyv(adapter, { namespace: ${JSON.stringify(prefix)} });
      await k.set(${JSON.stringify(account)}, ${BALANCE});
      await k.disconnect();
    `], { encoding: 'utf8' });
    expect(seed.status, seed.stderr).toBe(0);
    const counts = await runWorkers({ STORE_URL: url, PREFIX: prefix, ACCOUNT: account, DEBITS: String(DEBITS), MODE: 'naive' });
    const succeeded = counts.reduce((a, b) => a + b, 0);
    console.log(`naive Keyv get-then-set on ${name}: ${succeeded} debits succeeded against a balance of ${BALANCE}`);
    expect(succeeded).toBeGreaterThan(BALANCE);
    await new Keyv().disconnect();
  }, 120_000);
});
