// Helpers of the Claude proxy suites: accounts with credit, the ledger as the client sees it, SSE reading.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic.js';
import { call, ADMIN_TOKEN, type Mounted } from './mounts.js';

export const OPERATOR_KEY = 'sk-ant-operator-secret-0123456789';

export async function account(m: Mounted, microUsd = 0): Promise<{ key: string; account: string }> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  if (microUsd > 0) {
    const g = await call(`${m.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: r.body.account_id, amount_micro_usd: microUsd, reason: 'test' } });
    expect(g.status).toBe(201);
  }
  return { key: r.body.api_key as string, account: r.body.account_id as string };
}

/** Ledger entries, newest first. */
export async function ledger(m: Mounted, key: string): Promise<any[]> {
  const r = await call(`${m.url}/credits/ledger?limit=100`, { key });
  expect(r.status).toBe(200);
  return r.body.entries;
}

/** What the Claude calls of an account cost in total: minus the sum of its hold and settle entries. */
export async function claudeSpend(m: Mounted, key: string): Promise<{ spent: number; entries: any[] }> {
  const entries = (await ledger(m, key)).filter((e) => e.kind === 'hold' || e.kind === 'settle' || e.kind === 'debit');
  return { spent: 0 - entries.reduce((s, e) => s + e.amount_micro_usd, 0) || 0, entries };
}

/** Polls until every hold of the account is settled (settling ends a stream, after its last byte). */
export async function settled(m: Mounted, key: string, timeoutMs = 5000): Promise<{ spent: number; entries: any[] }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await claudeSpend(m, key);
    const holds = r.entries.filter((e) => e.kind === 'hold').length;
    const settles = r.entries.filter((e) => e.kind === 'settle').length;
    if ((holds > 0 && holds === settles) || Date.now() > until) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Parses SSE text into [event, data] pairs (comments kept as ['comment', text]). */
export function sseEvents(text: string): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    if (block.startsWith(':')) {
      out.push(['comment', block.slice(1).trim()]);
      continue;
    }
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
    const data = /^data: (.*)$/m.exec(block)?.[1];
    out.push([event, data === undefined ? undefined : JSON.parse(data)]);
  }
  return out;
}

/**
 * The fake upstream of a test file: started before its tests, reset before each one (then `onReset`,
 * e.g. to empty a captured log), closed after. Read it through the returned stand-in (`fake.url`…).
 */
export function useFakeAnthropic(onReset?: () => void): FakeAnthropic {
  let live: FakeAnthropic | undefined;
  beforeAll(async () => {
    live = await startFakeAnthropic();
  });
  afterAll(async () => {
    await live?.close();
  });
  beforeEach(() => {
    live!.reset();
    onReset?.();
  });
  return new Proxy({} as FakeAnthropic, {
    get(_stand, prop) {
      const v = Reflect.get(live!, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(live) : v;
    },
  });
}
