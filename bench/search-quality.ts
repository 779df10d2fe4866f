// `npm run bench` (or `npx tsx bench/search-quality.ts [store-url]`): recall@5 and MRR of GET /memory/search on the
// labelled relevance set, lexical, semantic and hybrid (hash embedder), written to BENCHMARKS.md ("Search quality").
import { hashEmbedder } from '../test/support/embedder.js';
import { httpSearchClient } from './search/clients.js';
import { belowFirst, evaluate, misses, qualityTable, storeSet, type ModeReport, type SearchClient } from './search/evaluate.js';
import { checkSet, RELEVANCE_SET } from './search/relevance.js';
import { startServer } from './search/server.js';
import { machine, writeSection } from './report.js';

/** Lexical recall@5 on the queries that share a word with their answer: the target of issue 16. */
const TARGET_SHARES_WORD = 0.9;
/** Longest wait for the background embedding of the whole set. */
const EMBED_WAIT_MS = 120_000;

const problems = checkSet();
if (problems.length) throw new Error(`the relevance set is not sound:\n${problems.join('\n')}`);

const storeUrl = process.argv[2];
const storePrefix = `apgsearchq_${process.pid}:`;
const embedder = hashEmbedder();
const largest = Math.max(...RELEVANCE_SET.map((u) => u.memories.length));
// maxLimit above the largest user's memory count: one semantic search then shows whether all are embedded.
const server = await startServer({
  search: { ...embedder, maxLimit: Math.max(100, largest) },
  ...(storeUrl && { store: storeUrl, storePrefix, multiProcess: true }),
});

/** Polls one semantic search per user until it returns every key of the user (all vectors written); returns the ms waited. */
async function waitForEmbeddings(client: SearchClient): Promise<number> {
  const started = Date.now();
  for (;;) {
    let missing = 0;
    for (const user of RELEVANCE_SET) {
      const got = await client.search(user.userId, 'memory', 'semantic', Math.max(100, largest));
      missing += user.memories.length - got.length;
    }
    if (missing === 0) return Date.now() - started;
    if (Date.now() - started > EMBED_WAIT_MS) throw new Error(`${missing} memories still not embedded after ${EMBED_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let reports: ModeReport[];
let embedWaitMs: number;
try {
  const client = await httpSearchClient(server.url, (await import('./search/server.js')).ADMIN_TOKEN);
  const t0 = Date.now();
  await storeSet(client);
  const storeMs = Date.now() - t0;
  embedWaitMs = await waitForEmbeddings(client);
  console.log(`stored ${RELEVANCE_SET.reduce((n, u) => n + u.memories.length, 0)} memories in ${storeMs} ms; all embedded ${embedWaitMs} ms later (${embedder.stats.calls} embed calls, ${embedder.stats.texts} texts)`);
  reports = [];
  for (const mode of ['lexical', 'semantic', 'hybrid'] as const) reports.push(await evaluate(client, mode));
} finally {
  await server.close();
  if (storeUrl) await (await import('../test/support/cleanup.js')).dropPrefix(storeUrl, storePrefix);
}

const table = qualityTable(reports);
console.log(table);
for (const r of reports) {
  const missed = misses(r);
  console.log(`\n${r.mode}: ${missed.length} queries missed in the top 5`);
  for (const line of missed) console.log(`  ${line}`);
  const late = belowFirst(r);
  console.log(`${r.mode}: ${late.length} queries sharing a word found below rank 1`);
  for (const line of late) console.log(`  ${line}`);
}
const lexical = reports[0]!;
const met = lexical.sharesWord.recall >= TARGET_SHARES_WORD;
const memories = RELEVANCE_SET.reduce((n, u) => n + u.memories.length, 0);
const queries = RELEVANCE_SET.reduce((n, u) => n + u.queries.length, 0);
const lexicalMisses = misses(lexical, true);

writeSection(
  'search-quality',
  'Search quality',
  [
    `Command: \`npm run bench\` (bench/search-quality.ts; \`npx tsx bench/search-quality.ts [store-url]\` alone). The labelled relevance set of bench/search/: ${memories} memories of 3 users (preferences, projects, contacts, meeting notes, todo lists, snippets, experiment logs, recipes; nested objects, arrays, numbers, booleans; German, French, Spanish and Japanese text) and ${queries} queries, each with the keys that answer it. ${lexical.paraphrase.n} queries are paraphrases sharing no word with their answer (checked against the data). Stored through POST /memory/store, searched with GET /memory/search (limit ${10}) on an in-process Express 5 server, ${storeUrl ? `store ${storeUrl.replace(/\/\/[^@/]*@/, '//')}` : 'in-memory store'}.`,
    `Semantic and hybrid use the test embedder \`hashEmbedder()\` (test/support/embedder.ts: hashed word stems and trigrams, 256 dimensions). It is **not semantic**: it only measures the plumbing and the fusion; a paraphrase score here says nothing about a real embedding model. All vectors were written ${embedWaitMs} ms after the last write.`,
    `recall@5: share of a query's relevant keys in the top 5, averaged. MRR: 1 / rank of the first relevant key in the top 10 (0 when absent), averaged.`,
    `Machine: ${machine()}. Run: ${new Date().toISOString()}.`,
    '',
    table,
    '',
    `Target: lexical recall@5 ≥ ${TARGET_SHARES_WORD} on the queries sharing a word with their answer: ${lexical.sharesWord.recall.toFixed(3)} ${met ? '✅' : '❌'} (test/search/quality.test.ts holds CI to it).`,
    ...(lexicalMisses.length ? ['', 'Lexical misses among the queries sharing a word:', '', ...lexicalMisses.map((l) => `- ${l}`)] : []),
  ].join('\n'),
);
if (!met) process.exitCode = 1;
