// Search on the Redis store: latency over one user with 10,000 memories, and put throughput with and without the index
// (alternating rounds in one run), on a private redis-server. Prints; `npm run bench:build && node .bench/bench/search-speed-redis.js`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { createClient } from '@redis/client';
import { documentText } from '../src/search/document.js';
import { parseQuery } from '../src/search/query.js';
import type { PutInput, SearchQuery } from '../src/storage/contract.js';
import { openStore } from '../src/storage/open.js';
import { machine } from './report.js';

const MEMORIES = Number(process.env.MEMORIES ?? 10_000);
const SEARCHES = Number(process.env.SEARCHES ?? 600);
const ROUNDS = 10;
/** Passes over the same queries: on a shared machine the other passes show how much the load moved the numbers. */
const PASSES = 3;
const PUTS_PER_ROUND = 2000;
const IN_FLIGHT = 16;

/** A small LCG: the same corpus and queries on every run. */
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
// Content words with a Zipf-like frequency (rank r drawn with weight 1/r: a few very common, a long tail of rare
// ones), mixed with English stop words as in real notes (documents keep them; queries drop them).
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'da', 'fi', 'go', 'hu', 'ja', 'pe', 'zo'];
const VOCAB = Array.from({ length: 4000 }, (_, i) => {
  let w = '';
  for (let n = i + 7; n > 0; n = Math.floor(n / 16)) w += SYLLABLES[n % 16];
  return w;
});
const STOP = 'the a to and of is in for with on that it my at as from by this be are was'.split(' ');
const HARMONIC = VOCAB.reduce((s, _, i) => s + 1 / (i + 1), 0);
function word(): string {
  let x = rnd() * HARMONIC;
  for (let i = 0; i < VOCAB.length; i++) if ((x -= 1 / (i + 1)) <= 0) return VOCAB[i]!;
  return VOCAB.at(-1)!;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
/** A sentence of n words, about 40% of them stop words. */
const sentence = (n: number) => Array.from({ length: n }, () => (rnd() < 0.4 ? pick(STOP) : word())).join(' ');
/** A memory as an agent stores one: a few fields, 20-40 terms with the key. */
const memory = (i: number) => ({ topic: `${word()} ${word()}`, note: sentence(12 + Math.floor(rnd() * 18)), tags: [word(), word()], source: 'chat', turn: i });

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const median = (xs: number[]) => percentile(xs, 0.5);

const port = await new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as { port: number }).port;
    srv.close(() => resolve(p));
  });
});
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const admin = createClient({ url });
admin.on('error', () => {});
for (let i = 0; ; i++) {
  try {
    await admin.connect();
    break;
  } catch (error) {
    if (i > 50) throw error;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const store = await openStore(url, { timeoutMs: 30_000, prefix: 'bench:' });
await store.init();
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(String(await admin.sendCommand(['INFO', 'memory'])))![1]);

try {
  const enc = new TextEncoder();
  const corpus = Array.from({ length: MEMORIES }, (_, i) => {
    const key = `mem_${i}`;
    const value = memory(i);
    const json = JSON.stringify(value);
    return { key, input: { value: enc.encode(json), size: json.length, tag: 't', expiresAt: null, index: documentText(key, value) } as PutInput };
  });
  const t0 = performance.now();
  for (const c of corpus.slice(0, 2000)) documentText(c.key, JSON.parse(new TextDecoder().decode(c.input.value)));
  const docUs = ((performance.now() - t0) * 1000) / 2000;
  const terms = corpus.map((c) => c.input.index!.split(' ').length);

  /** Writes `inputs` with IN_FLIGHT puts in flight; returns puts per second. */
  const putAll = async (collection: string, inputs: Array<{ key: string; input: PutInput }>) => {
    const start = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < inputs.length) {
        const { key, input } = inputs[next++]!;
        await store.put('acct', collection, key, input, Date.now());
      }
    }));
    return inputs.length / ((performance.now() - start) / 1000);
  };
  const m0 = await usedMemory();
  await putAll('m:indexed', corpus);
  const m1 = await usedMemory();
  await putAll('m:plain', corpus.map((c) => ({ key: c.key, input: { ...c.input, index: undefined } })));
  const m2 = await usedMemory();

  // Searches as an agent makes them for something it stored: 1-3 content words of a random memory (so common words
  // come up as often as they occur), sometimes with stop words around them ("what is the ..."), one in ten a phrase
  // of two adjacent words of a memory, one in ten a prefix (3-4 letters of one of its words); limit 10 and 50.
  const contentWords = (c: (typeof corpus)[number]) => {
    const { topic, note, tags } = JSON.parse(new TextDecoder().decode(c.input.value)) as { topic: string; note: string; tags: string[] };
    return [...topic.split(' '), ...note.split(' '), ...tags].filter((w) => !STOP.includes(w));
  };
  const queries: string[] = Array.from({ length: SEARCHES }, (_, i) => {
    const ws = contentWords(pick(corpus));
    if (i % 10 === 0) {
      const note = (JSON.parse(new TextDecoder().decode(pick(corpus).input.value)) as { note: string }).note.split(' ');
      const at = Math.floor(rnd() * (note.length - 1));
      return `"${note[at]} ${note[at + 1]}"`;
    }
    if (i % 10 === 1) return `${pick(ws).slice(0, 3 + Math.floor(rnd() * 2))}*`;
    const q = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(ws)).join(' ');
    return rnd() < 0.3 ? `what is the ${q}` : q;
  });
  const timeSearches = async (limit: number) => {
    const ms: number[] = [];
    let hits = 0;
    for (const q of queries) {
      const query: SearchQuery = { units: parseQuery(q), limit };
      const start = performance.now();
      hits += (await store.search('acct', 'm:indexed', query, Date.now())).length;
      ms.push(performance.now() - start);
    }
    return { ms, hits: hits / queries.length };
  };
  await timeSearches(10); // warm-up
  const s10 = [] as Array<Awaited<ReturnType<typeof timeSearches>>>;
  const s50 = [] as typeof s10;
  for (let p = 0; p < PASSES; p++) {
    s10.push(await timeSearches(10));
    s50.push(await timeSearches(50));
  }
  const worst = { units: parseQuery(VOCAB[0]!), limit: 10 };
  const worstMs: number[] = [];
  for (let i = 0; i < 60; i++) {
    const start = performance.now();
    await store.search('acct', 'm:indexed', worst, Date.now());
    worstMs.push(performance.now() - start);
  }
  const df0 = Number(await admin.sendCommand(['SCARD', `bench:{acct}:t:m%3Aindexed:${parseQuery(VOCAB[0]!)[0]!.words[0]}`]));

  // Put throughput, with and without the index, in alternating rounds (overwrites of random keys with new values).
  const rounds: Record<'indexed' | 'plain', number[]> = { indexed: [], plain: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const batch = Array.from({ length: PUTS_PER_ROUND }, () => {
      const i = Math.floor(rnd() * MEMORIES);
      const key = `mem_${i}`;
      const value = memory(i);
      const json = JSON.stringify(value);
      return { key, input: { value: enc.encode(json), size: json.length, tag: 't', expiresAt: null, index: documentText(key, value) } as PutInput };
    });
    for (const mode of r % 2 ? (['plain', 'indexed'] as const) : (['indexed', 'plain'] as const)) {
      const inputs = mode === 'indexed' ? batch : batch.map((b) => ({ key: b.key, input: { ...b.input, index: undefined } }));
      rounds[mode].push(await putAll(`m:${mode}`, inputs));
    }
  }

  const f = (x: number) => x.toFixed(1);
  const passes = (runs: typeof s10) => {
    const p50s = runs.map((r) => median(r.ms));
    const p99s = runs.map((r) => percentile(r.ms, 0.99));
    return `p50 ${f(median(p50s))} ms, p99 ${f(median(p99s))} ms (median of ${PASSES} passes; best pass p50 ${f(Math.min(...p50s))}, p99 ${f(Math.min(...p99s))})`;
  };
  const ratios = rounds.indexed.map((x, i) => x / rounds.plain[i]!);
  console.log(`Redis search, one user with ${MEMORIES} memories (${median(terms)} terms each at the median, ${percentile(terms, 0.1)}-${percentile(terms, 0.9)} p10-p90), ${machine()}, load average ${loadavg()[0]!.toFixed(1)}`);
  console.log(`search limit 10: ${passes(s10)}; ${SEARCHES} queries, ${f(s10[0]!.hits)} hits on average`);
  console.log(`search limit 50: ${passes(s50)}`);
  console.log(`search of the most common word (in ${df0} of ${MEMORIES} memories): p50 ${f(median(worstMs))} ms, p99 ${f(percentile(worstMs, 0.99))} ms, best ${f(Math.min(...worstMs))} ms`);
  console.log(`put, ${IN_FLIGHT} in flight, overwrites, ${ROUNDS} alternating rounds of ${PUTS_PER_ROUND}: with index ${median(rounds.indexed).toFixed(0)}/s, ` +
    `without ${median(rounds.plain).toFixed(0)}/s; with/without per round pair: median ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`);
  console.log(`Redis memory per memory: ${((m1 - m0) / MEMORIES).toFixed(0)} B with index, ${((m2 - m1) / MEMORIES).toFixed(0)} B without; documentText in Node ${docUs.toFixed(1)} µs per memory`);
} finally {
  await store.close();
  admin.destroy();
  server.kill();
}
