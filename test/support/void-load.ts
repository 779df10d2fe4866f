// Metered calls by 20 clients through mounted services while the store fails, and the checks that no unserved call stays charged.
import { expect } from 'vitest';
import type { LedgerEntry, Store } from '../../src/storage/contract.js';
import { openStore } from '../../src/storage/open.js';
import { utcDay } from '../../src/time.js';
import { startMount, type Mounted } from './mounts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  url: string;
  key: string;
  account: string;
  /** Paid calls (a debit each), or free calls (the free-call counter). */
  paid: boolean;
  statuses: Record<number, number>;
}

export interface LoadRun {
  clients: Client[];
  /** What the services logged (kept off the console). */
  logs: string[];
}

/**
 * Two services on `storeUrl` (through the test's proxy), each with `perService` clients of their own
 * account: on one every call is a free call, on the other every call is paid. Each client calls the
 * metered GET /memory/retrieve in a loop (charge + read: two store operations) while `fault` runs,
 * `around` ms before and after it; then the services close (flushing the voids still waiting).
 */
export async function meteredLoad(storeUrl: string, prefix: string, fault: () => Promise<void>, around = 1500, perService = 10): Promise<LoadRun> {
  const logs: string[] = [];
  const logger = { warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
  const common = { store: storeUrl, storePrefix: prefix, storeTimeoutMs: 1000, multiProcess: true, logger };
  const mounts: Mounted[] = [];
  const clients: Client[] = [];
  for (const paid of [false, true]) {
    const m = await startMount('core', { parsed: false, prefix: '', options: { ...common, freeCallsPerDay: paid ? 0 : 1_000_000 } });
    mounts.push(m);
    for (let i = 0; i < perService; i++) {
      const { api_key: key, account_id: account } = await m.ai.api.keys.create();
      await m.ai.api.memory.put(account, { userId: 'u', key: 'k', data: { i }, ttlDays: 1 }, Date.now());
      if (paid) await m.ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1_000_000_000, reason: 'load' });
      clients.push({ url: m.url, key, account, paid, statuses: {} });
    }
  }
  let stop = false;
  const loops = clients.map(async (c) => {
    while (!stop) {
      const res = await fetch(`${c.url}/memory/retrieve?user_id=u&key=k`, { headers: { authorization: `Bearer ${c.key}` } });
      await res.arrayBuffer();
      c.statuses[res.status] = (c.statuses[res.status] ?? 0) + 1;
    }
  });
  await sleep(around);
  await fault();
  await sleep(around);
  stop = true;
  await Promise.all(loops);
  for (const m of mounts) await m.close();
  return { clients, logs };
}

async function allEntries(store: Store, account: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (;;) {
    const page = await store.ledger(account, { limit: 1000, before: out.at(-1)?.seq });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** The charge id a ledger memo ends with (the meter writes it there), or null. */
const idOf = (memo: string | null): string | null => /\b(chg_\S+)$/.exec(memo ?? '')?.[1] ?? null;

/**
 * After recovery, read straight from the server: every standing debit belongs to a call answered 2xx,
 * the free calls used equal the free calls served, each refund undoes one debit of the same charge id
 * (never twice), and the ledger sums to the balance. Returns a summary for the log.
 */
export async function expectNoUnservedCharge(directUrl: string, prefix: string, run: LoadRun): Promise<Record<string, number>> {
  const store = await openStore(directUrl, { timeoutMs: 10_000, prefix });
  await store.init();
  const summary = { served: 0, unavailable: 0, standingDebits: 0, refunds: 0, freeUsed: 0 };
  // Every finding of every account, asserted at the end: a failure shows the whole picture.
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => void (ok || problems.push(problem));
  try {
    for (const c of run.clients) {
      const odd = Object.keys(c.statuses).filter((s) => s !== '200' && s !== '503');
      check(odd.length === 0, `${c.account} got statuses ${odd.join(', ')}`);
      const served = c.statuses[200] ?? 0;
      summary.served += served;
      summary.unavailable += c.statuses[503] ?? 0;
      if (!c.paid) {
        const used = await store.counter(c.account, `free:${utcDay(Date.now()).day}`, Date.now());
        summary.freeUsed += used;
        check(used === served, `${c.account}: ${used} free calls used, ${served} served`);
        continue;
      }
      const entries = await allEntries(store, c.account);
      const debits = entries.filter((e) => e.kind === 'debit');
      const refunds = entries.filter((e) => e.kind === 'refund');
      summary.standingDebits += debits.length - refunds.length;
      summary.refunds += refunds.length;
      check(debits.length - refunds.length === served, `${c.account}: ${debits.length - refunds.length} debits standing, ${served} calls served`);
      const debited = new Set(debits.map((e) => idOf(e.memo)));
      const refunded = refunds.map((e) => idOf(e.memo));
      check(refunded.every((id) => id !== null && debited.has(id)), `${c.account}: a refund without its debit`);
      check(new Set(refunded).size === refunded.length, `${c.account}: a charge refunded twice`);
      const balance = await store.balance(c.account, Date.now());
      check(entries.reduce((sum, e) => sum + e.amount, 0) === balance, `${c.account}: the ledger does not sum to the balance`);
    }
  } finally {
    await store.close();
  }
  // Calls answered 503 whose free call or debit stands: what this test is about (0).
  Object.assign(summary, { unservedCharged: summary.standingDebits + summary.freeUsed - summary.served });
  expect(problems, JSON.stringify(summary)).toEqual([]);
  expect(run.logs.filter((l) => /VOID FAILED/.test(l))).toEqual([]);
  // The fault was real: calls were refused while it lasted, and served before and after.
  expect(summary.unavailable).toBeGreaterThan(0);
  expect(summary.served).toBeGreaterThan(0);
  return summary;
}
