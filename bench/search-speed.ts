// `node .bench/bench/search-speed.js [backend...]`: memory search latency over one user with 10,000 memories, per backend,
// through the memory service (the same call the route makes), recorded in BENCHMARKS.md.
import { createAipaygent } from '../src/create.js';
import { machine, writeSection } from './report.js';

const N = Number(process.env.SEARCH_MEMORIES ?? 10_000);
const QUERIES = Number(process.env.SEARCH_QUERIES ?? 300);
const BACKENDS: Record<string, string | undefined> = {
  memory: undefined,
  sqlite: `sqlite://${process.env.TMPDIR ?? '/tmp'}/apg-search-bench-${process.pid}.db`,
  postgres: process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** A small deterministic generator (mulberry32): the same corpus on every run and backend. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'project deploy database postgres redis kafka python typescript react vite fastapi django billing invoice customer meeting ' +
  'notes summary deadline release version incident outage latency cache index search memory agent prompt model claude budget ' +
  'travel lisbon porto berlin tokyo flight hotel dinner recipe pasta coffee running marathon training doctor dentist vet dog ' +
  'cat garden plants music guitar piano novel author chapter contract lawyer tax refund salary bonus team hiring interview ' +
  'design figma color palette font layout mobile android ios swift kotlin rust golang docker kubernetes terraform aws gcp azure'
).split(' ');

/** Memory i of the corpus: a realistic small JSON value (a note, a preference set, a list) of 15 to 40 terms. */
function memoryOf(i: number, r: () => number): { key: string; data: unknown } {
  const pick = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, pick).join(' ');
  const shape = i % 3;
  const key = shape === 0 ? `notes/${pick()}_${i}` : shape === 1 ? `prefs.${pick()}${i}` : `list-${pick()}-${i}`;
  const data = shape === 0 ? { title: sentence(3), body: sentence(20), tags: [pick(), pick()] }
    : shape === 1 ? { favourite: pick(), avoid: pick(), level: Math.floor(r() * 10), active: r() > 0.5, note: sentence(8) }
    : [sentence(5), sentence(5), sentence(5)];
  return { key, data };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function run(name: string, store: string | undefined): Promise<string> {
  const storePrefix = `apgsearch_${process.pid}:`;
  const ai = createAipaygent({ ...(store && { store, storePrefix }), search: { maxLimit: 100 } });
  await ai.ready;
  try {
    const { account_id: account } = await ai.api.keys.create();
    const r = rng(42);
    const t0 = performance.now();
    for (let i = 0; i < N; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => {
        const m = memoryOf(i + j, r);
        return ai.api.memory.put(account, { userId: 'bench_user', key: m.key, data: m.data }, Date.now());
      }));
    }
    const loadS = (performance.now() - t0) / 1000;
    const q = rng(7);
    const word = () => WORDS[Math.floor(q() * WORDS.length)]!;
    const kinds = [() => word(), () => `${word()} ${word()}`, () => `${word()} ${word()} ${word()} ${word()}`, () => `"${word()} ${word()}"`, () => `${word().slice(0, 3)}*`];
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < QUERIES + 20; i++) {
      const t = performance.now();
      const out = await ai.api.memory.search(account, { userId: 'bench_user', q: kinds[i % kinds.length]!(), limit: 10 }, Date.now());
      if (i < 20) continue;
      times.push(performance.now() - t);
      if (out.ok) hits += out.results.length;
    }
    times.sort((a, b) => a - b);
    await ai.api.memory.eraseUser(account, 'bench_user');
    const p50 = pct(times, 50);
    return `| ${name} | ${N} | ${loadS.toFixed(1)} s | ${p50.toFixed(2)} ms | ${pct(times, 99).toFixed(2)} ms | ${(hits / QUERIES).toFixed(1)} | ${p50 <= 25 ? '✅' : '❌'} |`;
  } finally {
    await ai.close();
    if (store) await (await import('../test/support/cleanup.js')).dropPrefix(store, storePrefix).catch(() => {});
  }
}

const only = process.argv.slice(2);
const rows: string[] = [];
for (const [name, url] of Object.entries(BACKENDS)) {
  if (only.length && !only.includes(name)) continue;
  const row = await run(name, url);
  console.log(row);
  rows.push(row);
}
if (!only.length) {
  writeSection('search-speed', 'Search speed: one user with 10,000 memories, per backend', [
    `Command: \`npm run bench:build && node .bench/bench/search-speed.js\`. Machine: ${machine()}. ${N} memories of one user (notes, preference objects, lists of 15 to 40 terms, a deterministic corpus), written through the memory service (index kept), then ${QUERIES} lexical searches (one word, two words, four words, a phrase, a prefix; limit 10; values included) timed one after another after 20 warm-up searches. Target: p50 ≤ 25 ms.`,
    '',
    '| backend | memories | load time | search p50 | search p99 | results per search | p50 ≤ 25 ms |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'));
}
