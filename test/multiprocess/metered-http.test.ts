// 8 servers x 300 concurrent metered calls on one account (10 free calls + exactly 1,000 paid): exactly 1,010
// succeed, the rest are 402, the balance ends at 0, nothing unpaid is stored, and the ledger sums to the balance.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import type { LedgerEntry } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { postgresUrlOrSkip, redisUrlOrSkip } from '../support/backends.js';
import { dropPrefix } from '../support/cleanup.js';
import { startMount } from '../support/mounts.js';
import { allEntries } from '../support/ledger.js';
import { startStandalone } from '../support/standalone.js';
import { canStartCluster, startCluster, type OwnCluster } from '../support/redis-cluster.js';

const SERVERS = 8;
const CALLS = 300;
const FREE = 10;
const PRICE = 100; // the default price of /memory/store
const PAID = 1000;
const ADMIN = 'multi-process-admin-token-0123';
/**
 * 2,400 calls queue for each process's connection pool; on a loaded 2-core CI box a query can wait
 * over 10 s, and a timeout is a (correct, fail-closed) 503 that this test is not about.
 */
const STORE_TIMEOUT_MS = 120_000;

interface Fleet {
  /** In-process service on the same store: creates the account, reads the results. */
  control: Aipaygent;
  urls: string[];
  stop(): Promise<void>;
}

/** One in-process store shared by 8 services, each behind its own node:http server. */
async function inProcessFleet(): Promise<Fleet> {
  const store = new KeyvStore(new Keyv({ throwOnErrors: true }));
  const mounts = await Promise.all(
    Array.from({ length: SERVERS }, () => startMount('core', { parsed: false, prefix: '', options: { store, adminToken: ADMIN } })),
  );
  return { control: mounts[0]!.ai, urls: mounts.map((m) => m.url), stop: async () => void (await Promise.all(mounts.map((m) => m.close()))) };
}

/** 8 standalone server processes (`npm start`) sharing one native store. */
async function processFleet(url: string, prefix: string): Promise<Fleet> {
  const env = { AIPAYGENT_STORE: url, AIPAYGENT_STORE_PREFIX: prefix, AIPAYGENT_MULTI_PROCESS: '1', AIPAYGENT_ADMIN_TOKEN: ADMIN, AIPAYGENT_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS) };
  const control = createAipaygent({ store: url, storePrefix: prefix, multiProcess: true, adminToken: ADMIN, storeTimeoutMs: STORE_TIMEOUT_MS });
  await control.ready;
  const servers = await Promise.all(Array.from({ length: SERVERS }, () => startStandalone(env)));
  return {
    control,
    urls: servers.map((s) => s.url),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await control.close();
    },
  };
}

async function storedKeys(ai: Aipaygent, account: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const page = await ai.api.memory.list(account, 'u', { limit: 1000, after: out.at(-1) }, Date.now());
    out.push(...page.map((r) => r.key));
    if (page.length < 1000) return out;
  }
}

async function exactness(fleet: Fleet): Promise<void> {
  const { control, urls } = fleet;
  const { api_key: key, account_id: account } = await control.api.keys.create();
  await control.api.ledger.grant({ accountId: account, amountMicroUsd: PAID * PRICE, reason: 'exactness test' });
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  // Warm every server (connections, key lookup) on a free, uncounted route.
  for (const url of urls) {
    const r = await fetch(`${url}/credits/balance`, { headers: auth });
    expect(await r.json()).toMatchObject({ balance_micro_usd: PAID * PRICE, free_calls_remaining: FREE });
  }
  const started = Date.now();
  const results = await Promise.all(
    urls.flatMap((url, s) =>
      Array.from({ length: CALLS }, async (_, i) => {
        const k = `k${s}-${i}`;
        const r = await fetch(`${url}/memory/store`, { method: 'POST', headers: auth, body: JSON.stringify({ user_id: 'u', key: k, data: { s, i } }) });
        await r.arrayBuffer();
        return { k, status: r.status };
      }),
    ),
  );
  const ms = Date.now() - started;
  const byStatus: Record<number, number> = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  console.log(`${SERVERS} x ${CALLS} metered calls in ${ms} ms: ${JSON.stringify(byStatus)}`);
  expect(byStatus).toEqual({ 200: FREE + PAID, 402: SERVERS * CALLS - FREE - PAID });

  const after = await control.api.ledger.balance(account);
  expect(after).toMatchObject({ balanceMicroUsd: 0, freeCallsRemaining: 0 });
  const entries = await allEntries(control, account);
  expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(after.balanceMicroUsd);
  expect(entries.filter((e) => e.kind === 'debit').length).toBe(PAID);
  expect(entries.filter((e) => e.kind === 'grant').length).toBe(1);
  expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
  // Nothing unpaid was stored: exactly the calls answered 200 left a record.
  const stored = await storedKeys(control, account);
  expect(stored.length).toBe(FREE + PAID);
  expect(new Set(stored)).toEqual(new Set(results.filter((r) => r.status === 200).map((r) => r.k)));
  // The usage counters, kept in the same store operations by every process, agree exactly (a 402 is not a call).
  const usage = await control.api.usage.report(account, control.api.usage.range({ from: started, bucket: 'day' }, Date.now()));
  expect(usage.totals).toMatchObject({ calls: FREE + PAID, freeCalls: FREE, paidCalls: PAID, spentMicroUsd: PAID * PRICE, creditedMicroUsd: PAID * PRICE, refundedCalls: 0 });
}

const tmp = mkdtempSync(join(tmpdir(), 'apg-meter-mp-'));
let cluster: OwnCluster | undefined;
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await cluster?.stop();
});

describe('metered calls are exact across servers sharing one store', () => {
  it(`in-memory store, ${SERVERS} services in one process`, { timeout: 180_000 }, async () => {
    const fleet = await inProcessFleet();
    try {
      await exactness(fleet);
    } finally {
      await fleet.stop();
    }
  });

  const backends: Array<[string, () => Promise<string | null>]> = [
    ['redis', redisUrlOrSkip],
    ['postgres', postgresUrlOrSkip],
    ['sqlite', async () => `sqlite://${join(tmp, 'meter.db')}`],
    ['redis cluster', async () => (canStartCluster() ? (cluster ??= await startCluster()).url : null)],
  ];
  for (const [name, locate] of backends) {
    it(`${name} store, ${SERVERS} standalone server processes`, { timeout: 180_000 }, async (ctx) => {
      const url = await locate();
      if (!url) return ctx.skip();
      const prefix = `apgmh_${randomUUID().slice(0, 8)}_`;
      const fleet = await processFleet(url, prefix);
      try {
        await exactness(fleet);
      } finally {
        await fleet.stop();
        await dropPrefix(url, prefix);
      }
    });
  }
});
