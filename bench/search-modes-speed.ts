// `npm run bench` (or `npx tsx bench/search-modes-speed.ts [store-url]`): GET /memory/search latency over HTTP against a
// user's memory count in each mode (lexical, semantic, hybrid), how long background embedding lags a burst of writes,
// and what an embedder adds to POST /memory/store; written to BENCHMARKS.md ("Search speed by mode").
import { hashEmbedder } from '../test/support/embedder.js';
import type { AipaygentOptions } from '../src/config.js';
import { loadavg } from 'node:os';
import { machine, writeSection } from './report.js';
import { RELEVANCE_SET, type Json } from './search/relevance.js';
import { startServer, type BenchServer } from './search/server.js';

const storeUrl = process.argv[2];
const SIZES = (process.env.BENCH_SEARCH_SIZES ?? '300,3000,10000').split(',').map(Number);
/** Each query of the set is run this many times per mode and size (after one unmeasured pass). */
const REPEAT = Number(process.env.BENCH_SEARCH_REPEAT ?? 3);
const WRITES = Number(process.env.BENCH_SEARCH_WRITES ?? 1000);
const ROUNDS = 5;
const QUERIES = RELEVANCE_SET.flatMap((u) => u.queries.map((q) => q.q));
const BASE = RELEVANCE_SET.flatMap((u) => u.memories);

/** A small LCG: the synthetic corpus is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
const VOCAB = [...new Set(BASE.flatMap((m) => JSON.stringify(m.data).match(/\p{L}{3,}/gu) ?? []))].sort();

/** Memory `i` of a synthetic user: a memory of the set (cycled), wrapped with a note of words drawn from the set's vocabulary. */
function synthetic(i: number, next: () => number): { key: string; data: Json } {
  const base = BASE[i % BASE.length]!;
  const note = Array.from({ length: 8 }, () => VOCAB[Math.floor(next() * VOCAB.length)]).join(' ');
  return { key: `${base.key}~${Math.floor(i / BASE.length)}`, data: { note, copy: Math.floor(i / BASE.length), value: base.data } };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (x: number) => x.toFixed(2);

async function timed(url: string, init: RequestInit): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status}`);
  return performance.now() - t;
}

interface Bench {
  server: BenchServer;
  key: string;
  account: string;
}
const storePrefix = (n: number) => `apgsearchs_${process.pid}_${n}:`;
const opened: Array<{ prefix: string }> = [];

async function open(search: AipaygentOptions['search']): Promise<Bench> {
  const prefix = storePrefix(opened.length);
  opened.push({ prefix });
  // Free calls to spare (the scenarios of bench/run.ts do the same): a 402 would end the run early.
  const server = await startServer({ search, freeCallsPerDay: 1_000_000, ...(storeUrl && { store: storeUrl, storePrefix: prefix, multiProcess: true }) });
  const { api_key, account_id } = await server.ai.api.keys.create();
  return { server, key: api_key, account: account_id };
}

const rows: { writes: string[]; searches: string[] } = { writes: [], searches: [] };
const loadBefore = loadavg()[0]!.toFixed(2);
try {
  // 1. What the index adds to a write: search off, lexical, lexical + background embedding; rounds alternate the three.
  const kinds: Array<[string, AipaygentOptions['search']]> = [['search off', false], ['lexical index', {}], ['lexical + embedder (background)', hashEmbedder()]];
  const writers = await Promise.all(kinds.map(([, s]) => open(s)));
  const times: number[][] = kinds.map(() => []);
  const next = lcg(42);
  const corpus = Array.from({ length: WRITES }, (_, i) => synthetic(i, next));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, w] of writers.entries()) {
      for (let i = round; i < WRITES; i += ROUNDS) {
        const body = JSON.stringify({ user_id: 'writer', key: corpus[i]!.key, data: corpus[i]!.data });
        times[k]!.push(await timed(`${w.server.url}/memory/store`, { method: 'POST', headers: { authorization: `Bearer ${w.key}`, 'content-type': 'application/json' }, body }));
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [k, [name]] of kinds.entries()) {
    const t = times[k]!.slice().sort((a, b) => a - b);
    const base = times[0]!.slice().sort((a, b) => a - b);
    // The median, not the mean, is compared: on a shared machine a few stalls of 50 ms swing the mean.
    rows.writes.push(`| ${name} | ${ms(mean(t))} | ${ms(percentile(t, 50))} | ${ms(percentile(t, 99))} | ${((percentile(t, 50) / percentile(base, 50)) * 100).toFixed(0)}% |`);
  }
  await Promise.all(writers.map((w) => w.server.close()));

  // 2. Search latency against the user's memory count, one server with the embedder (so all three modes run).
  const embedder = hashEmbedder();
  const b = await open({ ...embedder });
  const headers = { authorization: `Bearer ${b.key}` };
  for (const size of SIZES) {
    const user = `user_${size}`;
    const gen = lcg(size);
    const before = embedder.stats.texts;
    let last = '';
    for (let i = 0; i < size; i++) {
      const mem = synthetic(i, gen);
      await b.server.ai.api.memory.put(b.account, { userId: user, key: mem.key, data: mem.data }, Date.now());
      last = mem.key;
    }
    // Embedded in the background, in write order: wait until the embedder saw them all and the last one is searchable.
    const started = Date.now();
    for (;;) {
      const q = new URLSearchParams({ user_id: user, q: 'memory', mode: 'semantic', prefix: last, limit: '1', include_data: 'false' });
      const r = (await (await fetch(`${b.server.url}/memory/search?${q}`, { headers })).json()) as { results?: unknown[] };
      if (embedder.stats.texts - before >= size && r.results?.length === 1) break;
      if (Date.now() - started > 300_000) throw new Error(`embeddings of ${size} memories not written after 300 s`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const embedMs = Date.now() - started;
    const cells: string[] = [];
    for (const mode of ['lexical', 'semantic', 'hybrid'] as const) {
      const lat: number[] = [];
      for (let pass = 0; pass <= REPEAT; pass++) {
        for (const text of QUERIES) {
          const q = new URLSearchParams({ user_id: user, q: text, mode, limit: '10' });
          const t = await timed(`${b.server.url}/memory/search?${q}`, { headers });
          if (pass > 0) lat.push(t);
        }
      }
      lat.sort((x, y) => x - y);
      cells.push(`${ms(percentile(lat, 50))} / ${ms(percentile(lat, 99))}`);
    }
    rows.searches.push(`| ${size} | ${cells.join(' | ')} | ${embedMs} |`);
    console.log(rows.searches.at(-1));
  }
  await b.server.close();
} finally {
  if (storeUrl) for (const o of opened) await (await import('../test/support/cleanup.js')).dropPrefix(storeUrl, o.prefix);
}

const table = [
  `| memory count of the user | lexical p50 / p99 (ms) | semantic p50 / p99 (ms) | hybrid p50 / p99 (ms) | all embedded after the last write (ms) |`,
  '|---:|---:|---:|---:|---:|',
  ...rows.searches,
  '',
  `| POST /memory/store, ${WRITES} writes of ~300 B | mean (ms) | p50 (ms) | p99 (ms) | p50 vs search off |`,
  '|---|---:|---:|---:|---:|',
  ...rows.writes,
].join('\n');
console.log(table);
writeSection(
  'search-modes-speed',
  'Search speed by mode: semantic and hybrid against a user\'s memory count, embedding lag, writes with an embedder',
  [
    `Command: \`npm run bench\` (bench/search-modes-speed.ts; \`npx tsx bench/search-modes-speed.ts [store-url]\` alone). ${storeUrl ? `Store ${storeUrl.replace(/\/\/[^@/]*@/, '//')}` : 'In-memory store'}, an in-process Express 5 server, sequential requests over keep-alive (client and server share one process: absolute times include the client).`,
    `Searches: the ${QUERIES.length} queries of the relevance set, ${REPEAT} measured passes after one warm-up, limit 10, with data. Each user holds N memories cycled from the relevance set, each wrapped with a note of 8 words drawn (fixed seed) from the set's vocabulary. Semantic and hybrid use \`hashEmbedder()\` (256 dimensions; its own cost is in the numbers). Writes: ${WRITES} distinct memories per configuration, the three configurations alternated in ${ROUNDS} rounds.`,
    `Machine: ${machine()}. Load average (1 min) ${loadBefore} at the start, ${loadavg()[0]!.toFixed(2)} at the end. Run: ${new Date().toISOString()}.`,
    '',
    table,
  ].join('\n'),
);
