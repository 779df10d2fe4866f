// Search quality on the labelled relevance set: lexical recall@5 on queries that share a word with their answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import { coreSearchClient } from '../../bench/search/clients.js';
import { evaluate, misses, storeSet, type SearchClient } from '../../bench/search/evaluate.js';
import { checkSet } from '../../bench/search/relevance.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** The floor CI holds lexical search to (bench/search-quality.ts measures every mode and writes BENCHMARKS.md). */
const MIN_RECALL_SHARES_WORD = 0.9;

describe('search quality (lexical, in-memory store)', () => {
  let ai: Aipaygent;
  let client: SearchClient;

  beforeAll(async () => {
    ai = createAipaygent({ adminToken: ADMIN_TOKEN });
    await ai.ready;
    client = await coreSearchClient(ai, ADMIN_TOKEN);
    await storeSet(client);
  });
  afterAll(() => ai?.close());

  it('the relevance set is sound: sizes, keys, and every sharesWord label matching the data', () => {
    expect(checkSet()).toEqual([]);
  });

  it(`finds the answer in the top 5 for at least ${MIN_RECALL_SHARES_WORD * 100}% of the queries sharing a word with it`, async () => {
    const report = await evaluate(client, 'lexical');
    // The misses are printed: they name the query, what was wanted and what came first instead.
    const missed = misses(report, true);
    if (missed.length) console.log(`lexical misses (shares a word):\n  ${missed.join('\n  ')}`);
    expect(report.sharesWord.n).toBeGreaterThanOrEqual(40);
    expect(report.sharesWord.recall).toBeGreaterThanOrEqual(MIN_RECALL_SHARES_WORD);
  });
});
