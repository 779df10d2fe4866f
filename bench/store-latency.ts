// Sequential latency of the metered calls per network store (Redis vs Postgres), rounds alternated: the
// latency half of bench/round-trips.ts (which counts the round trips). Both backends do the same number of
// round trips per call, so the ratio shows what each round trip costs inside the server.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createClient } from '@redis/client';
import { createAipaygent, type Aipaygent } from '../src/create.js';
import type { CoreRequest } from '../src/http/types.js';
import type { Store } from '../src/storage/contract.js';
import { openStore } from '../src/storage/open.js';
import { sqlNamespace } from '../src/storage/sql-schema.js';
import { usageBucket } from '../src/storage/usage.js';

const ROUNDS = Number(process.env.LATENCY_ROUNDS ?? 7);
const N = Number(process.env.LATENCY_N ?? 200);
const WARMUP = 50;

export const OPS = ['bare round trip', 'committed write', 'paid retrieve', 'paid store', 'reserve + settle (Claude call)'] as const;
type Op = (typeof OPS)[number];

interface Target {
  name: string;
  run: Record<Op, (i: number) => Promise<void>>;
  close(): Promise<void>;
}

const request = (apiKey: string, method: string, path: string, query: string, body?: unknown): CoreRequest => ({
  method, path, query, headers: { authorization: `Bearer ${apiKey}` },
  body: body === undefined ? { kind: 'none' } : { kind: 'parsed', value: body }, signal: new AbortController().signal,
});

async function ok(ai: Aipaygent, req: CoreRequest): Promise<void> {
  const res = await ai.handle(req);
  if (!res || res.status !== 200) throw new Error(`unexpected ${res?.status} ${String(res?.body)}`);
}

/** A paid service (no free calls), a store opened beside it for holds, and a bare client for the floor. */
async function target(name: string, url: string, cleanup: (prefix: string) => Promise<void>): Promise<Target> {
  const prefix = `apglat_${randomUUID().slice(0, 8)}_`;
  const ai = createAipaygent({ store: url, storePrefix: prefix, freeCallsPerDay: 0 });
  await ai.ready;
  const { api_key: key, account_id: account } = await ai.api.keys.create();
  await ai.api.ledger.grant({ accountId: account, amountMicroUsd: 1_000_000_000_000, reason: 'bench' });
  await ok(ai, request(key, 'POST', '/memory/store', '', { user_id: 'u', key: 'k', data: { language: 'Python', style: 'functional' } }));
  const store: Store = await openStore(url, { timeoutMs: 10_000, prefix: `${prefix}h_` });
  await store.init();
  await store.post('holder', { amount: 1_000_000_000_000, kind: 'grant' }, Date.now());
  // The floors: a round trip that does nothing, and the smallest write the server commits.
  let floor: () => Promise<void>;
  let write: () => Promise<void>;
  let closeFloor: () => Promise<void>;
  if (url.startsWith('redis')) {
    const c = createClient({ url });
    await c.connect();
    floor = async () => void (await c.ping());
    write = async () => void (await c.incr(`${prefix}floor`));
    closeFloor = async () => void (await c.quit());
  } else {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const table = `"${sqlNamespace(prefix)}".bench_floor`;
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n bigint NOT NULL)`);
    await pool.query(`INSERT INTO ${table} VALUES (1, 0)`);
    floor = async () => void (await pool.query('SELECT 1'));
    write = async () => void (await pool.query({ name: 'floor', text: `UPDATE ${table} SET n = n + 1 WHERE id = $1`, values: [1] }));
    closeFloor = () => pool.end();
  }
  const retrieve = request(key, 'GET', '/memory/retrieve', 'user_id=u&key=k');
  return {
    name,
    run: {
      'bare round trip': floor,
      'committed write': write,
      'paid retrieve': () => ok(ai, retrieve),
      'paid store': (i) => ok(ai, request(key, 'POST', '/memory/store', '', { user_id: 'u', key: `s${i}`, data: { i } })),
      'reserve + settle (Claude call)': async () => {
        const now = Date.now();
        const holdId = `clh_${randomUUID()}`;
        const h = await store.hold('holder', { holdId, amount: 20_001, expiresAt: now + 600_000, memo: `claude ${holdId}` }, now);
        if (!h.ok) throw new Error(`hold refused: ${h.reason}`);
        const usage = { bucket: usageBucket(now), expiresAt: now + 86_400_000, add: { 'tok:claude-x:input': 1200, 'tok:claude-x:output': 300 } };
        const s = await store.settle('holder', holdId, 7_500, Date.now(), 'claude msg_1', usage);
        if (!s.ok) throw new Error('settle refused');
      },
    },
    async close() {
      await closeFloor();
      await store.close();
      await ai.close();
      await cleanup(prefix);
      await cleanup(`${prefix}h_`);
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface LatencyResult {
  /** Per target, per operation: the p50 (ms) of every round, in order. */
  rounds: Record<string, Record<Op, number[]>>;
  names: string[];
}

/** Runs every operation N times per round on each target, targets alternating first and second each round. */
export async function storeLatency(
  targets: Array<{ name: string; url: string }>, cleanup: (url: string, prefix: string) => Promise<void>,
): Promise<LatencyResult> {
  const opened = [];
  for (const t of targets) opened.push(await target(t.name, t.url, (p) => cleanup(t.url, p)));
  const rounds: LatencyResult['rounds'] = {};
  for (const t of opened) rounds[t.name] = Object.fromEntries(OPS.map((op) => [op, [] as number[]])) as Record<Op, number[]>;
  let seq = 0;
  try {
    for (const t of opened) for (const op of OPS) for (let i = 0; i < WARMUP; i++) await t.run[op](seq++);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [...opened].reverse() : opened;
      for (const op of OPS) {
        for (const t of order) {
          const times: number[] = [];
          for (let i = 0; i < N; i++) {
            const t0 = performance.now();
            await t.run[op](seq++);
            times.push(performance.now() - t0);
          }
          rounds[t.name]![op].push(median(times));
        }
      }
      console.log(`latency round ${r + 1}/${ROUNDS}: ${opened.map((t) => `${t.name} retrieve p50 ${rounds[t.name]!['paid retrieve'].at(-1)!.toFixed(3)} ms`).join(', ')}`);
    }
  } finally {
    for (const t of opened) await t.close();
  }
  return { rounds, names: opened.map((t) => t.name) };
}

/** The markdown lines: per operation the median of the rounds' p50s, the ratio, and every round's p50. */
export function latencyTable(res: LatencyResult, [base, other]: [string, string]): string[] {
  const f = (ms: number) => ms.toFixed(3);
  const lines = [
    `| operation (sequential, one at a time) | ${base} p50 (ms) | ${other} p50 (ms) | ${other} / ${base} | ${base} p50 per round | ${other} p50 per round |`,
    '|---|---:|---:|---:|---|---|',
  ];
  for (const op of OPS) {
    const [b, o] = [res.rounds[base]![op], res.rounds[other]![op]];
    const ratio = median(o) / median(b);
    lines.push(`| ${op} | ${f(median(b))} | ${f(median(o))} | **${ratio.toFixed(2)}×** | ${b.map(f).join(' / ')} | ${o.map(f).join(' / ')} |`);
  }
  return lines;
}

export const retrieveRatio = (res: LatencyResult, [base, other]: [string, string]): number =>
  median(res.rounds[other]!['paid retrieve']) / median(res.rounds[base]!['paid retrieve']);

export const latencySettings = { ROUNDS, N, WARMUP };
