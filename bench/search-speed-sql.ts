// Search on the SQL stores: latency of one user's search among 10,000 memories (50,000 in the table), and what
// indexing costs a put, with and without a search document, side by side. Run: `npm run bench:build && node
// .bench/bench/search-speed-sql.js [memories per user] [users]` (or `npx tsx bench/search-speed-sql.ts`).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseQuery } from '../src/search/query.js';
import type { SearchQuery, Store } from '../src/storage/contract.js';
import { openStore } from '../src/storage/open.js';
import { tsqueryLiteral } from '../src/storage/sql-search.js';
import { machine, writeSection } from './report.js';
import { putInput, queries, type QueryKind } from './search-corpus.js';
import { httpStoreCost, procCpu, storePutCost, type CpuProbe, type PutCost } from './search-put-cost.js';

const PER_USER = Number(process.argv[2] ?? 10_000);
const USERS = Number(process.argv[3] ?? 5);
const POSTGRES = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ACCOUNT = 'acct_bench';
/** Puts per throughput round, pairs of rounds (with and without a document), puts in flight. */
const ROUND = 500;
const PAIRS = 20;
const IN_FLIGHT = 16;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (x: number) => x.toFixed(2);

interface Backend {
  name: string;
  /** Store URL and prefix (for the HTTP servers of the end-to-end rounds). */
  url: string;
  prefix: string;
  open(): Promise<Store>;
  drop(): Promise<void>;
  dbCpu: CpuProbe;
  /** After the load: Postgres gathers the table's statistics, as autovacuum does within a minute of a bulk load. */
  settle?(): Promise<void>;
  /** Postgres only: EXPLAIN ANALYZE of the store's search statement for `q` (the lines that tell the plan). */
  explain?(q: string): Promise<string[]>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'apg-search-bench-'));
  const url = `sqlite://${join(dir, 'bench.db')}`;
  return {
    name: 'SQLite (file, WAL)',
    url,
    prefix: 'apg',
    open: () => openStore(url, { timeoutMs: 60_000, prefix: 'apg', sweepIntervalMs: 0 } as never),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
    // In this process: process.cpuUsage() counts it.
    dbCpu: async () => new Map(),
  };
}

function postgresBackend(): Backend {
  const schema = `apg_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: POSTGRES });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  // Our pool's connections carry the schema as their application_name: their server processes are found by it.
  const url = `${POSTGRES}${POSTGRES.includes('?') ? '&' : '?'}application_name=${schema}`;
  let probe: pg.Client | undefined;
  return {
    name: 'Postgres 15',
    url,
    prefix: schema,
    open: () => openStore(url, { timeoutMs: 60_000, prefix: schema, sweepIntervalMs: 0 } as never),
    drop: async () => {
      await probe?.end();
      await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
    // Our backends only (not WAL writer or checkpointer, shared with the machine's other users).
    dbCpu: async () => {
      if (!probe) {
        probe = new pg.Client({ connectionString: POSTGRES });
        await probe.connect();
      }
      const { rows } = await probe.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [schema]);
      return procCpu(rows.map((r) => Number(r.pid)));
    },
    // Without statistics the planner reads the user's 10,000 rows for any word (~10 ms instead of ~2 ms for a rare one).
    settle: () => admin((c) => c.query(`ANALYZE "${schema}".records`)).then(() => {}),
    explain: (q) => admin(async (c) => {
      const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT r.key, r.value, ts_rank_cd(r.search, $1::tsquery, 1) AS score
        FROM "${schema}".records r WHERE r.search @@ $1::tsquery AND r.account = $2 AND r.collection = 'm:u0'
        AND (r.expires_at IS NULL OR r.expires_at > $3) ORDER BY score DESC, r.updated_at DESC, r.key LIMIT 10`,
      [tsqueryLiteral(parseQuery(q)), ACCOUNT, Date.now()]);
      return rows.map((r) => String(r['QUERY PLAN']).trim()).filter((l) => /Scan on|Execution Time|rows=\d+ loops=1\)$/.test(l) && !/^Limit/.test(l));
    }),
  };
}

/** Writes `count` memories of `user` (with their documents), `IN_FLIGHT` at a time. */
async function load(s: Store, user: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += IN_FLIGHT * 4) {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT * 4, count - i) }, (_, j) => {
      const { key, input } = putInput(user, i + j, true);
      return s.put(ACCOUNT, `m:u${user}`, key, input, Date.now());
    }));
  }
}

/** Sequential searches of user 0: latency of each, by query kind. */
async function latencies(s: Store): Promise<Map<QueryKind | 'all', number[]>> {
  const list = queries(40).map((x) => ({ kind: x.kind, query: { units: parseQuery(x.q), limit: 10 } satisfies SearchQuery }));
  for (const { query } of list.slice(0, 60)) await s.search(ACCOUNT, 'm:u0', query, Date.now());
  const out = new Map<QueryKind | 'all', number[]>([['all', []]]);
  for (let pass = 0; pass < 2; pass++) {
    for (const { kind, query } of list) {
      const t0 = performance.now();
      const hits = await s.search(ACCOUNT, 'm:u0', query, Date.now());
      const took = performance.now() - t0;
      if (hits.length === 0 && kind !== 'rare word') throw new Error(`no hit for a ${kind} query`);
      out.get('all')!.push(took);
      if (!out.has(kind)) out.set(kind, []);
      out.get(kind)!.push(took);
    }
  }
  for (const xs of out.values()) xs.sort((a, b) => a - b);
  return out;
}

const latencyRows: string[] = [];
const kindRows: string[] = [];
const putRows: string[] = [];
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** A row of the write-cost table; `target`: the most the throughput may lose, when one is set. */
function costRow(name: string, what: string, c: PutCost, target?: number): string {
  const cost = 1 - c.pairedRatio;
  const verdict = target === undefined ? 'recorded' : `≤ ${pct(target)} ${cost <= target ? '✅' : '❌'}`;
  console.log(`${name}, ${what}: ${c.without.toFixed(0)}/s without, ${c.withDoc.toFixed(0)}/s with (cost ${pct(cost)}); CPU ${c.cpuWithout.toFixed(0)} -> ${c.cpuWith.toFixed(0)} µs`);
  const spread = `${pct(1 - c.ratioQuartiles[1])} to ${pct(1 - c.ratioQuartiles[0])}`;
  return `| ${name} | ${what} | ${c.without.toFixed(0)} | ${c.withDoc.toFixed(0)} | **${pct(cost)}** (${spread}) | ${c.cpuWithout.toFixed(0)} | ${c.cpuWith.toFixed(0)} | ${pct(c.cpuWith / c.cpuWithout - 1)} | ${verdict} |`;
}
const plans: string[] = [];
const load0 = loadavg()[0]!;
const only = process.env.SEARCH_BENCH_ONLY;
for (const b of [sqliteBackend(), postgresBackend()].filter((x) => !only || x.name.toLowerCase().startsWith(only))) {
  const s = await b.open();
  try {
    await s.init();
    const t0 = performance.now();
    for (let u = 0; u < USERS; u++) await load(s, u, PER_USER);
    const loadS = (performance.now() - t0) / 1000;
    console.log(`${b.name}: loaded ${USERS} × ${PER_USER} memories in ${loadS.toFixed(1)} s`);
    await b.settle?.();
    const lat = await latencies(s);
    const all = lat.get('all')!;
    latencyRows.push(`| ${b.name} | ${all.length} | **${ms(quantile(all, 0.5))}** | ${ms(quantile(all, 0.99))} | ${quantile(all, 0.5) <= 25 ? '✅' : '❌'} |`);
    for (const [kind, xs] of lat) if (kind !== 'all') kindRows.push(`| ${b.name} | ${kind} | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.99))} |`);
    console.log(`${b.name}: search p50 ${ms(quantile(all, 0.5))} ms, p99 ${ms(quantile(all, 0.99))} ms`);
    if (b.explain) {
      for (const q of ['team', 'fentormi', 'source']) plans.push(`EXPLAIN ANALYZE, query "${q}":`, ...(await b.explain(q)).map((l) => `    ${l}`));
    }
    const put = await storePutCost(s, ACCOUNT, b.dbCpu, PAIRS, ROUND, IN_FLIGHT);
    putRows.push(costRow(b.name, '`store.put`', put, b.explain ? 0.15 : undefined));
    const http = await httpStoreCost(b.url, b.prefix, b.dbCpu, PAIRS, ROUND, IN_FLIGHT);
    putRows.push(costRow(b.name, 'POST /memory/store', http));
  } finally {
    await s.close();
    await b.drop();
  }
}

const body = [
  `Command: \`npm run bench:build && node .bench/bench/search-speed-sql.js\` (bench/search-speed-sql.ts; corpus in bench/search-corpus.ts). ` +
  `${USERS} users × ${PER_USER.toLocaleString('en-US')} memories in one table (small JSON values of 150-300 bytes, Zipf-distributed words); ` +
  `searches of user 0 through \`store.search\` (limit 10; Postgres after ANALYZE, as autovacuum does within a minute of a bulk load: without statistics every query reads the user's 10,000 rows, ~10 ms), sequential, 2 passes of 280 queries after 60 warm-up ones. Machine: ${machine()}; load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`,
  '',
  '| backend | searches | p50 (ms) | p99 (ms) | target p50 ≤ 25 ms |',
  '|---|---:|---:|---:|---|',
  ...latencyRows,
  '',
  'By kind of query ("in every memory": a field name every value has, so all 10,000 memories match and are ranked):',
  '',
  '| backend | query | p50 (ms) | p99 (ms) |',
  '|---|---|---:|---:|',
  ...kindRows,
  '',
  `Writes of new keys into the same table (after the searches), ${IN_FLIGHT} in flight, ${PAIRS} pairs of rounds of ${ROUND} writes alternating AB/BA: ` +
  '`store.put` with a search document made beforehand vs without one (what a store does with search off, `index: undefined`); ' +
  'POST /memory/store through `ai.handle` (key check and free call, history version, the write; the document made in Node) on a server with search on vs one with `search: false`. ' +
  'Indexing cost = 1 − the median of the pairs\' throughput ratios (each pair compared within itself: the machine\'s load drifts), with the quartiles of the pairs in parentheses. CPU per write: this process plus, on Postgres, the pool\'s server processes (WAL writer, checkpointer and autovacuum not counted).',
  '',
  '| backend | write | /s, no document | /s, with document | indexing cost (throughput; quartiles) | CPU µs, no document | CPU µs, with document | CPU cost | target |',
  '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ...putRows,
  '',
  'Postgres plans (the store\'s search statement, literal parameters):',
  '',
  '```',
  ...plans,
  '```',
].join('\n');
writeSection('search-sql', 'Search on Postgres and SQLite: latency at 10,000 memories, cost of indexing', body);
console.log(body);
